"""Lifecycle on live data: known states, flows and cohorts, stored and read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from builders import load, member_of, visit_order
from memberops.actor import Actor
from memberops.db import transaction
from memberops.errors import NotFound, ValidationError
from memberops.lifecycle import SEGMENT_FIELDS
from memberops.lifecycle.models import LifecycleState
from memberops.lifecycle.rules import LifecycleConfig
from memberops.lifecycle.service import read_cohorts, read_current, read_flows, run_lifecycle
from memberops.runtime import Runtime

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00")  # 18:00 in Beijing


def load_lifecycle_chain(runtime: Runtime, actor: Actor) -> dict[str, str]:
    """L0: one visit on 20 May. L1: 10 Jan, back on 25 May after 135 days. L2: 15 Jan only."""
    orders = {
        "L0": [visit_order(10, _at("2026-05-20"), 3000)],
        "L1": [visit_order(11, _at("2026-01-10"), 3000), visit_order(11, _at("2026-05-25"), 3000)],
        "L2": [visit_order(12, _at("2026-01-15"), 3000)],
    }
    load(runtime, actor, *[o for batch in orders.values() for o in batch])
    with transaction(runtime.sessions) as session:
        return {
            name: str(member_of(session, batch[0]["source_order_id"]))
            for name, batch in orders.items()
        }


def _states(runtime: Runtime) -> dict[tuple[str, str], str]:
    with transaction(runtime.sessions) as session:
        rows = session.query(LifecycleState).all()
        return {(r.member_id, r.month): r.state for r in rows}


def test_states_per_month_end_match_the_known_chain(seeded: Runtime, admin: Actor) -> None:
    ids = load_lifecycle_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run = run_lifecycle(session, now=AS_OF)
    assert run.months == 6
    states = _states(seeded)
    months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert [states.get((ids["L1"], m)) for m in months] == [
        "new", "active", "at risk", "at risk", "reactivated", "reactivated",
    ]  # fmt: skip
    assert [states.get((ids["L2"], m)) for m in months] == [
        "new", "active", "at risk", "at risk", "lapsed", "lapsed",
    ]  # fmt: skip
    assert [states.get((ids["L0"], m)) for m in months] == [None] * 4 + ["new", "new"]
    assert run.current == {"new": 1, "active": 0, "reactivated": 1, "at risk": 0, "lapsed": 1}


def test_flows_count_every_move_per_month(seeded: Runtime, admin: Actor) -> None:
    load_lifecycle_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_lifecycle(session, now=AS_OF)
        flows = read_flows(session)["flows"]
        since_may = read_flows(session, since="2026-05")["flows"]
    got = {(f["month"], f["from_state"], f["to_state"]): f["members"] for f in flows}
    assert got == {
        ("2026-01", "none", "new"): 2,
        ("2026-02", "new", "active"): 2,
        ("2026-03", "active", "at risk"): 2,
        ("2026-04", "at risk", "at risk"): 2,
        ("2026-05", "at risk", "reactivated"): 1,
        ("2026-05", "at risk", "lapsed"): 1,
        ("2026-05", "none", "new"): 1,
        ("2026-06", "reactivated", "reactivated"): 1,
        ("2026-06", "lapsed", "lapsed"): 1,
        ("2026-06", "new", "new"): 1,
    }
    assert {f["month"] for f in since_may} == {"2026-05", "2026-06"}


def test_cohort_retention_and_current_counts(seeded: Runtime, admin: Actor) -> None:
    load_lifecycle_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_lifecycle(session, now=AS_OF)
        cohorts = read_cohorts(session)["cohorts"]
        current = read_current(session)
    january: dict[str, Any] = cohorts[0]
    assert january["cohort"] == "2026-01" and january["size"] == 2
    assert [c["members"] for c in january["retention"]] == [2, 0, 0, 0, 1, 0]
    assert january["retention"][4]["share"] == 0.5
    assert cohorts[1]["cohort"] == "2026-05"
    assert [c["members"] for c in cohorts[1]["retention"]] == [1, 0]
    assert current["month"] == "2026-06" and current["members"] == 3


def test_thresholds_change_the_states(seeded: Runtime, admin: Actor) -> None:
    ids = load_lifecycle_chain(seeded, admin)
    config = LifecycleConfig(new_days=10, active_days=20, lapsed_days=40)
    with transaction(seeded.sessions) as session:
        run_lifecycle(session, now=AS_OF, config=config)
    assert _states(seeded)[(ids["L2"], "2026-03")] == "lapsed"


def test_segment_field_reads_the_current_state(seeded: Runtime, admin: Actor) -> None:
    ids = load_lifecycle_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_lifecycle(session, now=AS_OF)
        field = SEGMENT_FIELDS["lifecycle.state"]
        values = dict(session.execute(field.query(session)).all())
    assert values == {ids["L0"]: "new", ids["L1"]: "reactivated", ids["L2"]: "lapsed"}


def test_no_orders_no_states_and_bad_thresholds_refused(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session:
        run = run_lifecycle(session, now=AS_OF)
        assert run.member_months == 0
        with pytest.raises(NotFound, match="lifecycle run"):
            read_current(session)
        with pytest.raises(ValidationError, match="lapsed_days"):
            run_lifecycle(session, now=AS_OF, config=LifecycleConfig(lapsed_days=30))
