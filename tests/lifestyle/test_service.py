"""Lifestyle traits on a small chain with known baskets."""

from __future__ import annotations

from datetime import datetime

import pytest

from builders import ANALYTICS_AS_OF, load_fan_chain
from memberops.actor import Actor
from memberops.db import transaction
from memberops.lifestyle import SEGMENT_FIELDS, parse_mapping
from memberops.lifestyle.service import default_mapping, run_lifestyle, trait_summary
from memberops.runtime import Runtime

AS_OF = datetime.fromisoformat(ANALYTICS_AS_OF)


def test_default_mapping_scores_every_member(seeded: Runtime, admin: Actor) -> None:
    ids = load_fan_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        report = run_lifestyle(session, as_of=AS_OF)
    assert report.members_scored == 4
    assert report.traits == {
        "family_with_children": 1,
        "health_conscious": 1,
        "premium": 1,
        "seafood_lover": 1,
        "meat_lover": 1,
        "sweet_tooth": 0,
    }
    with transaction(seeded.sessions) as session:
        held = [
            tuple(r) for r in session.execute(SEGMENT_FIELDS["lifestyle.traits"].query(session))
        ]
        summary = trait_summary(session)
    by_id = {v: k for k, v in ids.items()}
    assert sorted((by_id[m], t) for m, t in held) == [
        ("A", "premium"),
        ("A", "seafood_lover"),
        ("B", "family_with_children"),
        ("B", "health_conscious"),
        ("C", "meat_lover"),
    ]
    assert summary["members_scored"] == 4
    assert summary["traits"]["premium"] == 1


def test_scores_are_spend_shares(seeded: Runtime, admin: Actor) -> None:
    ids = load_fan_chain(seeded, admin)
    from memberops.lifestyle.service import score_lifestyles

    with transaction(seeded.sessions) as session:
        rows = score_lifestyles(session, as_of=AS_OF, mapping=default_mapping())
    scores = {(r["member_id"], r["trait"]): r["score"] for r in rows}
    # B: tomato broth 5,800 + potatoes 1,200 of 8,200 are health-conscious; kids 1,200.
    assert scores[(ids["B"], "health_conscious")] == pytest.approx(7000 / 8200, abs=1e-6)
    assert scores[(ids["B"], "family_with_children")] == pytest.approx(1200 / 8200, abs=1e-6)
    # D: beef is 4,800 of 11,600: below the meat lover's 0.45.
    assert scores[(ids["D"], "meat_lover")] == pytest.approx(4800 / 11600, abs=1e-6)


def test_lines_basis_and_custom_mapping(seeded: Runtime, admin: Actor) -> None:
    ids = load_fan_chain(seeded, admin)
    mapping = parse_mapping(
        'basis = "lines"\n[[traits]]\nid = "broth_fan"\nlabel = "Broth fan"\n'
        'categories = ["broths"]\nthreshold = 0.5\n',
        source="custom.toml",
    )
    with transaction(seeded.sessions) as session:
        report = run_lifestyle(session, as_of=AS_OF, mapping=mapping)
    # One broth per visit: A 1 of 2 items, B 1 of 3, C 1 of 3, D 1 of 2.
    assert report.traits == {"broth_fan": 2}
    with transaction(seeded.sessions) as session:
        held = {m for m, _t in session.execute(SEGMENT_FIELDS["lifestyle.traits"].query(session))}
    assert held == {ids["A"], ids["D"]}
