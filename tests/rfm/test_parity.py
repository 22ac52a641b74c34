"""One RFM definition, three engines: DuckDB, PostgreSQL and Spark return the same scores.

Every value is an integer or a string, so the tables must be equal exactly. PostgreSQL
runs when MEMBEROPS_TEST_DATABASE_URL is set; Spark on the suite's SparkSession.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from memberops.pipeline import engines
from memberops.rfm.features import rfm_scores
from parity import assert_same_table, chain_inputs, engine_results

AS_OF = datetime(2026, 1, 1)
KEYS = [("scope", "ascending"), ("member_id", "ascending")]
RUNS = ("chain", "stores")


def _compute(con: Any) -> dict[str, pa.Table]:
    orders = engines.bind_table(con, "orders", chain_inputs().orders)
    return {
        name: con.to_pyarrow(rfm_scores(orders, AS_OF, bins=bins, by_store=by_store)).sort_by(KEYS)
        for name, bins, by_store in (("chain", 5, False), ("stores", 4, True))
    }


duckdb_results, postgres_results, spark_results = engine_results(_compute)


@pytest.mark.parametrize("run", RUNS)
def test_postgres_scores_every_member_like_duckdb(
    run: str, duckdb_results: dict[str, pa.Table], postgres_results: dict[str, pa.Table]
) -> None:
    assert duckdb_results[run].num_rows > 200
    assert_same_table(duckdb_results[run], postgres_results[run])


@pytest.mark.slow
@pytest.mark.parametrize("run", RUNS)
def test_spark_scores_every_member_like_duckdb(
    run: str, duckdb_results: dict[str, pa.Table], spark_results: dict[str, pa.Table]
) -> None:
    assert_same_table(duckdb_results[run], spark_results[run])


def test_duckdb_scores_follow_the_rule_and_cover_every_bin(
    duckdb_results: dict[str, pa.Table],
) -> None:
    chain = duckdb_results["chain"].to_pylist()
    for row in chain:
        assert row["score"] == row["r"] + row["f"] + row["m"]
    assert {row["r"] for row in chain} == {1, 2, 3, 4, 5}
    # Equal recency always means an equal R score (ties are never split).
    by_recency: dict[int, set[int]] = {}
    for row in chain:
        by_recency.setdefault(row["recency_days"], set()).add(row["r"])
    assert all(len(scores) == 1 for scores in by_recency.values())
