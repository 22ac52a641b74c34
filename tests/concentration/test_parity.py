"""One spend definition, two engines: DuckDB and PostgreSQL rank members the same.

PostgreSQL runs when MEMBEROPS_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
from datetime import datetime

import pyarrow as pa
import pytest

from memberops.concentration.features import member_spend
from memberops.concentration.rules import gini
from memberops.pipeline import engines
from memberops.pipeline.synthetic import synthetic_inputs

PG_URL = os.environ.get("MEMBEROPS_TEST_DATABASE_URL")
AS_OF = datetime(2026, 1, 1)


def _compute(engine: engines.EngineName) -> pa.Table:
    con = engines.connect(engine, database_url=PG_URL)
    try:
        inputs = synthetic_inputs(members=150, orders=1200, stores=6, items=40, seed=11)
        orders = engines.bind_table(con, "orders", inputs.orders)
        return con.to_pyarrow(member_spend(orders, AS_OF)).sort_by(
            [("scope", "ascending"), ("rank", "ascending")]
        )
    finally:
        con.disconnect()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL parity runs with MEMBEROPS_TEST_DATABASE_URL")
def test_duckdb_and_postgres_rank_every_member_the_same() -> None:
    duck, pg = _compute("duckdb"), _compute("postgres")
    assert duck.num_rows > 150
    assert duck.to_pylist() == pg.to_pylist()


def test_ranks_are_a_total_order_per_scope() -> None:
    rows = _compute("duckdb").to_pylist()
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
