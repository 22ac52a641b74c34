"""Engine parity helpers: one synthetic chain, computed on each engine, compared with DuckDB.

Counts, money, identifiers, dates and times must be equal exactly; floating-point ratios
within a relative tolerance of `REL_TOL` (engines sum and divide doubles in different
orders, so the last bits may differ). Spark runs on the suite's one SparkSession (the
`spark` fixture in tests/conftest.py); PostgreSQL when MEMBEROPS_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from memberops.pipeline import engines
from memberops.pipeline.engines import FeatureInputs
from memberops.pipeline.synthetic import synthetic_inputs

__all__ = [
    "PG_URL",
    "REL_TOL",
    "assert_same_table",
    "chain_inputs",
    "compute_on",
    "engine_results",
]

PG_URL = os.environ.get("MEMBEROPS_TEST_DATABASE_URL")
REL_TOL = 1e-9

Compute = Callable[[Any], dict[str, pa.Table]]


@functools.cache
def chain_inputs() -> FeatureInputs:
    """The analyses' synthetic chain: 300 members, about 2,400 orders in 6 stores."""
    return synthetic_inputs(members=300, orders=2400, stores=6, items=40, seed=11)


def compute_on(
    engine: engines.EngineName, compute: Compute, *, spark: Any = None
) -> dict[str, pa.Table]:
    """`compute(con)` on a fresh connection to `engine` (skipped for PostgreSQL when the
    suite has no PostgreSQL URL)."""
    if engine == "postgres" and not PG_URL:
        pytest.skip("PostgreSQL parity runs with MEMBEROPS_TEST_DATABASE_URL set")
    con = engines.connect(engine, database_url=PG_URL, spark=spark)
    try:
        return compute(con)
    finally:
        engines.release(con)


def engine_results(compute: Compute) -> tuple[Any, Any, Any]:
    """Module-scoped fixtures `duckdb_results`, `postgres_results` and `spark_results`:
    `compute` on each engine once per test module. Assign them at module level:

        duckdb_results, postgres_results, spark_results = engine_results(_compute)
    """

    @pytest.fixture(scope="module", name="duckdb_results")
    def duckdb_results() -> dict[str, pa.Table]:
        return compute_on("duckdb", compute)

    @pytest.fixture(scope="module", name="postgres_results")
    def postgres_results() -> dict[str, pa.Table]:
        return compute_on("postgres", compute)

    @pytest.fixture(scope="module", name="spark_results")
    def spark_results(spark: Any) -> dict[str, pa.Table]:
        return compute_on("spark", compute, spark=spark)

    return duckdb_results, postgres_results, spark_results


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    keys = [c for c in table.column_names if not pa.types.is_floating(table.schema.field(c).type)]
    return sorted(
        rows,
        key=lambda r: tuple(
            (r[k] is None, r[k] or 0) if not isinstance(r[k], str) else (False, r[k]) for k in keys
        ),
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return bool(a == b)


def assert_same_table(expected: pa.Table, actual: pa.Table) -> None:
    """Same columns of the same types, same rows (order-free); floats within REL_TOL,
    the rest exactly."""
    assert sorted(actual.column_names) == sorted(expected.column_names)
    actual = actual.select(expected.column_names)
    differ = {
        f.name: (str(f.type), str(actual.schema.field(f.name).type))
        for f in expected.schema
        if actual.schema.field(f.name).type != f.type
    }
    assert not differ, differ
    want, got = _rows(expected), _rows(actual)
    assert len(got) == len(want)
    for w, g in zip(want, got, strict=True):
        mismatched = {k: (w[k], g[k]) for k in w if not _same(w[k], g[k])}
        assert not mismatched, mismatched
