"""One lifestyle definition, three engines: DuckDB, PostgreSQL and Spark score the same.

Trait scores are computed from the synthetic chain's order lines with a mapping of its
items to traits, on spend and on items ordered; one member's only line is free, so the
zero-total branch runs too. Matched and total amounts must be equal exactly; the score
(a ratio rounded to 6 decimals) within tests/parity.py's REL_TOL. PostgreSQL runs when
MEMBEROPS_TEST_DATABASE_URL is set; Spark on the suite's SparkSession.
"""

from __future__ import annotations

import functools
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from memberops.lifestyle.features import ITEM_TRAITS_SCHEMA, LINES_SCHEMA, trait_scores
from memberops.pipeline import engines
from parity import assert_same_table, chain_inputs, engine_results

BASES = ("spend", "lines")
TRAITS = ("family_with_children", "health_conscious", "premium", "sweet_tooth")


@functools.cache
def _lines_and_traits() -> tuple[pa.Table, pa.Table]:
    inputs = chain_inputs()
    owners = inputs.orders.select(["order_id", "member_id"])
    lines = inputs.lines.join(owners, "order_id").select(LINES_SCHEMA.names).cast(LINES_SCHEMA)
    free = pa.table(
        {"member_id": ["m9999999999"], "item_id": ["i0000000000"], "quantity": [1]},
    ).append_column("line_total_cents", pa.array([0], pa.int64()))
    lines = pa.concat_tables([lines, free.cast(LINES_SCHEMA)])
    items = sorted(set(inputs.lines.column("item_id").to_pylist()))
    # Item k signals trait k % 5 (none for 4) and, every seventh item, "premium" too.
    pairs = [(item, TRAITS[k % 5]) for k, item in enumerate(items) if k % 5 < 4]
    pairs += [(item, "premium") for k, item in enumerate(items) if k % 7 == 0 and k % 5 != 2]
    item_traits = pa.table(
        {"item_id": [i for i, _t in pairs], "trait": [t for _i, t in pairs]},
        schema=ITEM_TRAITS_SCHEMA,
    )
    return lines, item_traits


def _compute(con: Any) -> dict[str, pa.Table]:
    lines, item_traits = _lines_and_traits()
    bound_lines = engines.bind_table(con, "lifestyle_lines", lines)
    bound_traits = engines.bind_table(con, "lifestyle_item_traits", item_traits)
    return {
        basis: con.to_pyarrow(trait_scores(bound_lines, bound_traits, basis=basis))
        for basis in BASES
    }


duckdb_results, postgres_results, spark_results = engine_results(_compute)


def test_scores_are_shares_of_the_member_total(duckdb_results: dict[str, pa.Table]) -> None:
    for basis in BASES:
        table = duckdb_results[basis]
        assert table.num_rows > 500
        assert set(table.column("trait").to_pylist()) == set(TRAITS)
        for row in table.to_pylist():
            if row["total"] > 0:
                assert row["score"] == round(row["matched"] / row["total"], 6)
        free = table.filter(pc.equal(table.column("member_id"), "m9999999999")).to_pylist()
        expected_free = {"family_with_children": 0.0, "premium": 0.0}
        if basis == "lines":  # one item of one: the whole of it
            expected_free = {"family_with_children": 1.0, "premium": 1.0}
        assert {r["trait"]: r["score"] for r in free} == expected_free


@pytest.mark.parametrize("basis", BASES)
def test_postgres_agrees_with_duckdb(
    basis: str, duckdb_results: dict[str, pa.Table], postgres_results: dict[str, pa.Table]
) -> None:
    assert_same_table(duckdb_results[basis], postgres_results[basis])


@pytest.mark.slow
@pytest.mark.parametrize("basis", BASES)
def test_spark_agrees_with_duckdb(
    basis: str, duckdb_results: dict[str, pa.Table], spark_results: dict[str, pa.Table]
) -> None:
    assert_same_table(duckdb_results[basis], spark_results[basis])
