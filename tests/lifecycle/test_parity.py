"""One lifecycle definition: DuckDB, PostgreSQL, Spark and the pure state machine agree.

The Ibis definition mirrors `rules.member_states`; both are run on the same synthetic
chain, with the default thresholds and with shorter ones. Every value is an integer, a
date or a string, so the engines must agree exactly. PostgreSQL runs when
MEMBEROPS_TEST_DATABASE_URL is set; Spark on the suite's SparkSession.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pytest

from memberops.lifecycle.features import (
    cohort_retention,
    lifecycle_states,
    monthly_flows,
    points_table,
    visit_days,
)
from memberops.lifecycle.rules import LifecycleConfig, evaluation_points, member_states
from memberops.lifecycle.service import compute_lifecycle
from memberops.pipeline import engines
from parity import assert_same_table, chain_inputs, engine_results

AS_OF = datetime(2026, 1, 1)
CONFIGS = {
    "default": LifecycleConfig(),
    "short": LifecycleConfig(new_days=14, active_days=45, lapsed_days=90),
}
TABLES = [
    "days",
    *(f"{kind}-{name}" for name in CONFIGS for kind in ("states", "flows")),
    "cohorts",
    *(f"run-{kind}" for kind in ("states", "flows", "cohorts")),
]


def _compute(con: Any) -> dict[str, pa.Table]:
    days = visit_days(engines.bind_table(con, "orders", chain_inputs().orders), AS_OF)
    first = con.to_pyarrow(days.aggregate(first=days.business_date.min())).column(0)[0]
    points = evaluation_points(first.as_py(), AS_OF.date())
    out = {
        "points": pa.table({"point": pa.array(points, pa.date32())}),
        "days": con.to_pyarrow(days),
        "cohorts": con.to_pyarrow(cohort_retention(days)),
    }
    for name, config in CONFIGS.items():
        states = lifecycle_states(days, points_table(points), config)
        out[f"states-{name}"] = con.to_pyarrow(states)
        out[f"flows-{name}"] = con.to_pyarrow(monthly_flows(states))
    # What a run computes: visit days and states materialised on the engine once.
    orders = engines.bind_table(con, "orders", chain_inputs().orders)
    run = compute_lifecycle(con, orders, AS_OF, CONFIGS["default"])
    for kind, table in zip(("states", "flows", "cohorts"), run[:3], strict=True):
        assert table is not None
        out[f"run-{kind}"] = table
    return out


duckdb_results, postgres_results, spark_results = engine_results(_compute)


@pytest.mark.parametrize("config", CONFIGS)
def test_duckdb_states_equal_the_pure_state_machine(
    config: str, duckdb_results: dict[str, pa.Table]
) -> None:
    points: list[date] = duckdb_results["points"].column("point").to_pylist()
    visits: dict[str, list[date]] = defaultdict(list)
    for row in duckdb_results["days"].sort_by("business_date").to_pylist():
        visits[row["member_id"]].append(row["business_date"])
    expected = {
        (member, p.year * 100 + p.month): state
        for member, days in visits.items()
        for p, state in zip(points, member_states(days, points, CONFIGS[config]), strict=True)
        if state is not None
    }
    got = {
        (r["member_id"], r["month_key"]): r["state"]
        for r in duckdb_results[f"states-{config}"].to_pylist()
    }
    assert len(got) > 1000
    assert got == expected
    # Flows: each member's consecutive states, from 'none' in their first month.
    moves: dict[tuple[int, str, str], int] = defaultdict(int)
    for days in visits.values():
        before = "none"
        for p, state in zip(points, member_states(days, points, CONFIGS[config]), strict=True):
            if state is not None:
                moves[(p.year * 100 + p.month, before, state)] += 1
                before = state
    flows = {
        (f["month_key"], f["from_state"], f["to_state"]): f["members"]
        for f in duckdb_results[f"flows-{config}"].to_pylist()
    }
    assert flows == moves


def test_a_run_computes_what_the_expressions_compute(duckdb_results: dict[str, pa.Table]) -> None:
    for kind in ("states", "flows"):
        assert_same_table(duckdb_results[f"{kind}-default"], duckdb_results[f"run-{kind}"])
    assert_same_table(duckdb_results["cohorts"], duckdb_results["run-cohorts"])


@pytest.mark.parametrize("table", TABLES)
def test_postgres_agrees_with_duckdb(
    table: str, duckdb_results: dict[str, pa.Table], postgres_results: dict[str, pa.Table]
) -> None:
    assert_same_table(duckdb_results[table], postgres_results[table])


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_spark_agrees_with_duckdb(
    table: str, duckdb_results: dict[str, pa.Table], spark_results: dict[str, pa.Table]
) -> None:
    assert_same_table(duckdb_results[table], spark_results[table])
