"""One store mix definition, three engines: DuckDB, PostgreSQL and Spark agree.

The per-member metrics are the pipeline's (computed on DuckDB from the synthetic chain);
every member holds none to all four of the traits. Member
counts must be equal exactly; the premium and value shares (ratios) within
tests/parity.py's REL_TOL. PostgreSQL runs when MEMBEROPS_TEST_DATABASE_URL is set;
Spark on the suite's SparkSession.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from memberops.pipeline import engines
from memberops.storemix.features import TRAITS_SCHEMA, store_segments, store_traits
from parity import assert_same_table, chain_inputs, engine_results

AS_OF = datetime(2026, 1, 1)
TABLES = ("segments", "traits")
TRAITS = ("family_with_children", "health_conscious", "premium", "seafood_lover")


@functools.cache
def _metrics_and_traits() -> tuple[pa.Table, pa.Table]:
    con = engines.connect("duckdb")
    try:
        bound = engines.bind_inputs(con, chain_inputs())
        metrics = con.to_pyarrow(engines.member_feature_exprs(bound)["metrics"])
    finally:
        engines.release(con)
    rng = np.random.default_rng(3)
    held = [
        (member, trait)
        for member in metrics.column("member_id").to_pylist()
        for trait in TRAITS
        if rng.random() < 0.3
    ]
    traits = pa.table(
        {"member_id": [m for m, _t in held], "trait": [t for _m, t in held]}, schema=TRAITS_SCHEMA
    )
    return metrics, traits


def _compute(con: Any) -> dict[str, pa.Table]:
    metrics, traits = _metrics_and_traits()
    m = engines.bind_table(con, "storemix_metrics", metrics)
    t = engines.bind_table(con, "storemix_traits", traits)
    return {
        "segments": con.to_pyarrow(store_segments(m, AS_OF)),
        "traits": con.to_pyarrow(store_traits(m, t)),
    }


duckdb_results, postgres_results, spark_results = engine_results(_compute)


def test_every_home_store_has_segments_and_traits(duckdb_results: dict[str, pa.Table]) -> None:
    segments = duckdb_results["segments"].to_pylist()
    stores = {r["store_id"] for r in segments}
    assert len(stores) == 6
    assert all(r["premium_members"] + r["value_members"] <= r["members"] for r in segments)
    assert any(0 < r["premium_share"] < 1 for r in segments)
    traits = duckdb_results["traits"].to_pylist()
    assert {r["store_id"] for r in traits} == stores
    assert {r["trait"] for r in traits} == set(TRAITS)


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
