"""One lifecycle definition: DuckDB, PostgreSQL and the pure state machine agree.

The Ibis definition mirrors `rules.member_states`; both are run on the same synthetic
chain. PostgreSQL runs when MEMBEROPS_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, datetime

import pytest

from memberops.lifecycle.features import (
    cohort_retention,
    lifecycle_states,
    monthly_flows,
    points_table,
    visit_days,
)
from memberops.lifecycle.rules import LifecycleConfig, evaluation_points, member_states
from memberops.pipeline import engines
from memberops.pipeline.synthetic import synthetic_inputs

PG_URL = os.environ.get("MEMBEROPS_TEST_DATABASE_URL")
AS_OF = datetime(2026, 1, 1)
CONFIGS = (LifecycleConfig(), LifecycleConfig(new_days=14, active_days=45, lapsed_days=90))


def _compute(engine: engines.EngineName, config: LifecycleConfig) -> dict[str, list[dict]]:
    con = engines.connect(engine, database_url=PG_URL)
    try:
        inputs = synthetic_inputs(members=150, orders=1200, stores=6, items=40, seed=11)
        days = visit_days(engines.bind_table(con, "orders", inputs.orders), AS_OF)
        first = con.to_pyarrow(days.aggregate(first=days.business_date.min())).column(0)[0]
        points = evaluation_points(first.as_py(), AS_OF.date())
        states = lifecycle_states(days, points_table(points), config)
        key = ["member_id", "month_key"]
        return {
            "points": [{"point": p} for p in points],
            "days": con.to_pyarrow(days).to_pylist(),
            "states": con.to_pyarrow(states.order_by(key)).to_pylist(),
            "flows": con.to_pyarrow(
                monthly_flows(states).order_by(["month_key", "from_state", "to_state"])
            ).to_pylist(),
            "cohorts": con.to_pyarrow(
                cohort_retention(days).order_by(["cohort_key", "k"])
            ).to_pylist(),
        }
    finally:
        con.disconnect()


@pytest.mark.parametrize("config", CONFIGS)
def test_duckdb_states_equal_the_pure_state_machine(config: LifecycleConfig) -> None:
    out = _compute("duckdb", config)
    points: list[date] = [p["point"] for p in out["points"]]
    visits: dict[str, list[date]] = defaultdict(list)
    for row in out["days"]:
        visits[row["member_id"]].append(row["business_date"])
    expected = {
        (member, p.year * 100 + p.month): state
        for member, days in visits.items()
        for p, state in zip(points, member_states(days, points, config), strict=True)
        if state is not None
    }
    got = {(r["member_id"], r["month_key"]): r["state"] for r in out["states"]}
    assert len(got) > 1000
    assert got == expected
    # Flows: each member's consecutive states, from 'none' in their first month.
    moves: dict[tuple[int, str, str], int] = defaultdict(int)
    for days in visits.values():
        before = "none"
        for p, state in zip(points, member_states(days, points, config), strict=True):
            if state is not None:
                moves[(p.year * 100 + p.month, before, state)] += 1
                before = state
    flows = {(f["month_key"], f["from_state"], f["to_state"]): f["members"] for f in out["flows"]}
    assert flows == moves


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL parity runs with MEMBEROPS_TEST_DATABASE_URL")
@pytest.mark.parametrize("config", CONFIGS)
def test_duckdb_and_postgres_agree(config: LifecycleConfig) -> None:
    duck, pg = _compute("duckdb", config), _compute("postgres", config)
    for name in ("states", "flows", "cohorts"):
        assert duck[name] == pg[name], name
