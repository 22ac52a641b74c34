"""The lifecycle state machine: thresholds, transitions and evaluation points."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memberops.lifecycle.rules import (
    STATES,
    LifecycleConfig,
    classify,
    evaluation_points,
    member_states,
)

CONFIG = LifecycleConfig()
START = date(2025, 1, 1)
POINTS = evaluation_points(START, date(2026, 6, 15))


def test_thresholds_at_their_boundaries() -> None:
    assert classify(30, 30, None) == "new"
    assert classify(31, 31, None) == "active"
    assert classify(200, 60, None) == "active"
    assert classify(200, 61, None) == "at risk"
    assert classify(200, 120, None) == "at risk"
    assert classify(200, 121, None) == "lapsed"


def test_reactivated_lasts_active_days_after_the_return() -> None:
    assert classify(400, 0, 60) == "reactivated"
    assert classify(400, 10, 61) == "active"  # returned long ago, still visiting
    assert classify(20, 0, 0) == "new"  # new wins: a first visit cannot be a return


def test_a_return_after_a_lapse_reactivates() -> None:
    visits = [date(2026, 1, 10), date(2026, 5, 25)]  # 135 days apart: a lapse
    points = evaluation_points(date(2026, 1, 10), date(2026, 6, 1))
    assert member_states(visits, points) == [
        "new",
        "active",
        "at risk",
        "at risk",
        "reactivated",
        "reactivated",
    ]


def test_a_gap_of_exactly_lapsed_days_is_not_a_lapse() -> None:
    first = date(2026, 1, 1)
    visits = [first, first + timedelta(days=120)]
    assert member_states(visits, [first + timedelta(days=125)]) == ["active"]


def test_no_state_before_the_first_visit() -> None:
    assert member_states([date(2026, 3, 5)], [date(2026, 2, 28), date(2026, 3, 31)]) == [
        None,
        "new",
    ]


def test_evaluation_points_are_month_ends_then_today() -> None:
    assert evaluation_points(date(2026, 1, 20), date(2026, 3, 10)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 10),
    ]
    assert evaluation_points(date(2026, 3, 1), date(2026, 2, 1)) == []
    assert evaluation_points(date(2025, 12, 5), date(2026, 1, 1))[0] == date(2025, 12, 31)


def test_inconsistent_thresholds_are_refused() -> None:
    assert LifecycleConfig(active_days=120, lapsed_days=120).problems() == [
        ("lapsed_days", "must be more than active_days")
    ]
    assert LifecycleConfig(new_days=0).problems()[0][0] == "new_days"
    assert CONFIG.problems() == []


visit_days = st.lists(
    st.integers(0, 520).map(lambda d: START + timedelta(days=d)), min_size=1, max_size=40
)


@given(visit_days)
def test_every_point_from_the_first_visit_has_exactly_one_state(days: list[date]) -> None:
    states = member_states(days, POINTS)
    first = min(days)
    for point, state in zip(POINTS, states, strict=True):
        assert (state is None) == (point < first)
        assert state is None or state in STATES


@given(visit_days)
def test_states_match_their_definitions(days: list[date]) -> None:
    ordered = sorted(set(days))
    for point, state in zip(POINTS, member_states(days, POINTS), strict=True):
        seen = [d for d in ordered if d <= point]
        if not seen:
            continue
        since_last = (point - seen[-1]).days
        lapses = [b for a, b in pairwise(seen) if (b - a).days > CONFIG.lapsed_days]
        if state == "lapsed":
            assert since_last > CONFIG.lapsed_days
        if state == "reactivated":
            assert lapses and (point - lapses[-1]).days <= CONFIG.active_days
        if state == "new":
            assert (point - seen[0]).days <= CONFIG.new_days
        if state in ("active", "reactivated", "new"):
            assert since_last <= CONFIG.active_days


@given(visit_days)
def test_lapsed_members_stay_lapsed_or_come_back_reactivated(days: list[date]) -> None:
    states = member_states(days, POINTS)
    for before, after in pairwise(states):
        if before == "lapsed":
            assert after in ("lapsed", "reactivated")
        if before is not None:
            assert after is not None


@given(visit_days, st.randoms())
def test_order_and_repeats_of_visits_do_not_matter(days: list[date], rnd: object) -> None:
    shuffled = days + days[:3]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert member_states(shuffled, POINTS) == member_states(days, POINTS)


@pytest.mark.parametrize("state", STATES)
def test_every_state_is_reachable(state: str) -> None:
    examples = {
        "new": (5, 5, None),
        "active": (100, 10, None),
        "reactivated": (300, 5, 5),
        "at risk": (300, 90, None),
        "lapsed": (300, 200, None),
    }
    assert classify(*examples[state]) == state
