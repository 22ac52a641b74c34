"""One spend definition, three engines: DuckDB, PostgreSQL and Spark rank members the same.

Spend and ranks are integers, so the tables must be equal exactly. PostgreSQL runs when
MEMBEROPS_TEST_DATABASE_URL is set; Spark on the suite's SparkSession.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from memberops.concentration.features import member_spend
from memberops.concentration.rules import gini
from memberops.pipeline import engines
from parity import assert_same_table, chain_inputs, engine_results

AS_OF = datetime(2026, 1, 1)


def _compute(con: Any) -> dict[str, pa.Table]:
    orders = engines.bind_table(con, "orders", chain_inputs().orders)
    spend = con.to_pyarrow(member_spend(orders, AS_OF))
    return {"spend": spend.sort_by([("scope", "ascending"), ("rank", "ascending")])}


duckdb_results, postgres_results, spark_results = engine_results(_compute)


def test_postgres_ranks_every_member_like_duckdb(
    duckdb_results: dict[str, pa.Table], postgres_results: dict[str, pa.Table]
) -> None:
    assert duckdb_results["spend"].num_rows > 300
    assert_same_table(duckdb_results["spend"], postgres_results["spend"])


@pytest.mark.slow
def test_spark_ranks_every_member_like_duckdb(
    duckdb_results: dict[str, pa.Table], spark_results: dict[str, pa.Table]
) -> None:
    assert_same_table(duckdb_results["spend"], spark_results["spend"])


def test_ranks_are_a_total_order_per_scope(duckdb_results: dict[str, pa.Table]) -> None:
    rows = duckdb_results["spend"].to_pylist()
    scopes: dict[str, list[dict]] = {}
    for row in rows:
        scopes.setdefault(row["scope"], []).append(row)
    assert "chain" in scopes and len(scopes) == 7
    for members in scopes.values():
        assert [m["rank"] for m in members] == list(range(1, len(members) + 1))
        assert all(m["members"] == len(members) for m in members)
        spends = [m["spend_cents"] for m in members]
        assert spends == sorted(spends, reverse=True)
        assert 0 <= gini(spends) < 1
