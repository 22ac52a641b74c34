"""Expressions compiled to one SQL query count exactly the members they describe,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from memberops.db import transaction
from memberops.runtime import Runtime
from memberops.segments.repository import compile_segment, count_members, parse_and_check
from memberops.segments.rules import ExpressionError
from segments.conftest import Chain

CASES = [
    ("visits >= 3", {"gold_regular", "black_lapsed"}),
    ("visits >= 3 and days_since_last_visit <= 90", {"gold_regular"}),
    ('tier in ("Gold Sea", "Black Sea")', {"gold_regular", "black_lapsed"}),
    ('tier in ("gold", "black") and consent("marketing")', {"gold_regular", "black_lapsed"}),
    (
        'tier in ("Gold Sea", "Black Sea") and visits >= 3 and days_since_last_visit <= 90'
        ' and consent("marketing")',
        {"gold_regular"},
    ),
    ('has_label("no_coriander")', {"gold_regular"}),
    ('not has_label("no_coriander")', {"black_lapsed", "red_new", "never_visited"}),
    ('consent("marketing")', {"gold_regular", "black_lapsed", "never_visited"}),
    ('consent("profiling")', set()),
    ("days_since_last_visit == 5", {"red_new"}),
    ("days_since_last_visit between 5 and 10", {"gold_regular", "red_new"}),
    ("days_since_last_visit not between 5 and 10", {"black_lapsed"}),
    # A member without a value matches no comparison, but `not (...)` is plain negation.
    ("not visits >= 3", {"red_new", "never_visited"}),
    ("visits < 3", {"red_new"}),
    ('home_store == "BJ001"', {"gold_regular", "red_new"}),
    ('home_store != "BJ001"', {"black_lapsed"}),
    ("spend_cents >= 1200000 or points_balance >= 1000", {"gold_regular", "black_lapsed"}),
    ('last_visit >= "2026-05-22"', {"gold_regular", "red_new"}),
    ('last_visit == "2026-05-27"', {"red_new"}),
    ('last_visit < "2026-05-22"', {"black_lapsed"}),
    ('tier == "red" and not (visits >= 1)', {"never_visited"}),
    ("spend_per_person_cents > 1.5", {"gold_regular", "black_lapsed", "red_new"}),
]


def _matching(session: Session, text: str, chain: Chain) -> set[str]:
    stmt = compile_segment(session, parse_and_check(text))
    ids = set(session.scalars(stmt))
    assert count_members(session, stmt) == len(ids)
    names = {value: key for key, value in vars(chain).items()}
    return {names[i] for i in ids}


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_expression_counts_exactly_its_members(
    seeded: Runtime, chain: Chain, text: str, expected: set[str]
) -> None:
    with transaction(seeded.sessions) as session:
        assert _matching(session, text, chain) == expected


def test_merged_members_are_never_counted(seeded: Runtime, chain: Chain) -> None:
    with transaction(seeded.sessions) as session:
        assert "merged" not in _matching(session, "visits >= 1", chain)


def test_manager_view_narrows_to_the_home_store(seeded: Runtime, chain: Chain) -> None:
    with transaction(seeded.sessions) as session:
        stmt = compile_segment(session, parse_and_check("visits >= 1"), home_store_code="SH001")
        assert set(session.scalars(stmt)) == {chain.black_lapsed}


def test_unknown_field_names_column_and_suggestion() -> None:
    with pytest.raises(ExpressionError) as error:
        parse_and_check("visits >= 3 and vists >= 3")
    assert str(error.value).endswith("column 17: unknown field 'vists' (did you mean 'visits'?)")


def test_unknown_consent_purpose_is_refused() -> None:
    with pytest.raises(ExpressionError, match="consent\\(\\) takes one of"):
        parse_and_check('consent("spam")')
