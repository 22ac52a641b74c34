"""RFM on live data: known scores and segments chain-wide and per store, stored and read."""

from __future__ import annotations

import pytest

from builders import SPEND_CHAIN_AS_OF, load_spend_chain, transactions_at_once
from memberops.actor import Actor
from memberops.db import transaction
from memberops.errors import NotFound, ValidationError
from memberops.rfm import SEGMENT_FIELDS
from memberops.rfm.rules import RfmConfig
from memberops.rfm.service import member_rfm, read_rfm, run_rfm, run_rfm_stores
from memberops.runtime import Runtime


def _scores(runtime: Runtime, ids: dict[int, str], store: str | None = None) -> dict[int, tuple]:
    by_id = {v: k for k, v in ids.items()}
    out = {}
    with transaction(runtime.sessions) as session:
        for member_id, k in by_id.items():
            for row in member_rfm(session, member_id):
                if row["store"] == store:
                    out[k] = (row["r"], row["f"], row["m"], row["segment"], row["recency_days"])
    return out


def test_chain_scores_and_segments_match_the_known_chain(seeded: Runtime, admin: Actor) -> None:
    ids = load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run = run_rfm(session, now=SPEND_CHAIN_AS_OF)
    assert run.members == 5
    assert _scores(seeded, ids) == {
        0: (5, 5, 5, "champions", 2),
        1: (4, 1, 2, "new", 5),
        2: (3, 3, 3, "loyal", 40),
        3: (2, 4, 4, "can't lose", 200),
        4: (1, 1, 1, "lost", 400),
    }


def test_per_store_scores_use_the_visits_in_that_store(seeded: Runtime, admin: Actor) -> None:
    ids = load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_rfm(session, now=SPEND_CHAIN_AS_OF, store_code="BJ001")
        run_rfm(session, now=SPEND_CHAIN_AS_OF, store_code="SH001")
    # Members 0, 2 and 3 tie on three BJ001 visits: all score F = 3.
    assert _scores(seeded, ids, "BJ001") == {
        0: (4, 3, 5, "champions", 16),
        1: (5, 1, 2, "new", 5),
        2: (3, 3, 3, "loyal", 40),
        3: (2, 3, 4, "at risk", 207),
        4: (1, 1, 1, "lost", 400),
    }
    assert _scores(seeded, ids, "SH001") == {
        0: (3, 3, 3, "loyal", 2),
        3: (1, 1, 1, "lost", 200),
    }


def test_read_gives_segment_counts_spend_and_the_grid(seeded: Runtime, admin: Actor) -> None:
    load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_rfm(session, now=SPEND_CHAIN_AS_OF)
        data = read_rfm(session)
    segments = {s["segment"]: (s["members"], s["spend_cents"]) for s in data["segments"]}
    assert segments["champions"] == (1, 50000)
    assert segments["can't lose"] == (1, 32000)
    assert segments["at risk"] == (0, 0)
    assert data["spend_cents"] == 102500
    assert data["grid"]["members"][0][0] == 1  # member 4: R 1, F 1
    assert data["grid"]["members"][4][4] == 1  # member 0: R 5, F 5
    assert sum(map(sum, data["grid"]["members"])) == 5


def test_a_rerun_replaces_the_scope_with_new_bins(seeded: Runtime, admin: Actor) -> None:
    load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_rfm(session, now=SPEND_CHAIN_AS_OF)
        run_rfm(session, now=SPEND_CHAIN_AS_OF, config=RfmConfig(bins=3))
        data = read_rfm(session)
    assert data["bins"] == 3 and data["members"] == 5
    assert len(data["grid"]["members"]) == 3


def test_segment_fields_select_member_and_value(seeded: Runtime, admin: Actor) -> None:
    ids = load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_rfm(session, now=SPEND_CHAIN_AS_OF)
        rows = dict(session.execute(SEGMENT_FIELDS["rfm.segment"].query(session)).all())
        scores = dict(session.execute(SEGMENT_FIELDS["rfm.score"].query(session)).all())
    assert rows[ids[0]] == "champions"
    assert scores[ids[0]] == 15
    assert SEGMENT_FIELDS["rfm.segment"].kind == "text"


def test_reading_before_a_run_says_what_to_do(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session, pytest.raises(NotFound, match="rfm run"):
        read_rfm(session)


def test_bad_bins_and_unknown_store_are_refused(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session:
        with pytest.raises(ValidationError, match="bins"):
            run_rfm(session, now=SPEND_CHAIN_AS_OF, config=RfmConfig(bins=1))
        with pytest.raises(NotFound, match="XX999"):
            run_rfm(session, now=SPEND_CHAIN_AS_OF, store_code="XX999")


def test_two_runs_at_once_both_succeed_and_leave_one_snapshot(
    seeded: Runtime, admin: Actor
) -> None:
    load_spend_chain(seeded, admin)
    errors = transactions_at_once(seeded, lambda session: run_rfm(session, now=SPEND_CHAIN_AS_OF))
    assert not errors, errors
    with transaction(seeded.sessions) as session:
        assert read_rfm(session)["members"] == 5


def test_every_store_at_once_equals_store_by_store(seeded: Runtime, admin: Actor) -> None:
    ids = load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        runs = run_rfm_stores(session, now=SPEND_CHAIN_AS_OF)
    assert sorted((r.store, r.members) for r in runs) == [("BJ001", 5), ("SH001", 2)]
    together = {s: _scores(seeded, ids, s) for s in ("BJ001", "SH001")}
    with transaction(seeded.sessions) as session:
        for store in ("BJ001", "SH001"):
            run_rfm(session, now=SPEND_CHAIN_AS_OF, store_code=store)
    assert together == {s: _scores(seeded, ids, s) for s in ("BJ001", "SH001")}
