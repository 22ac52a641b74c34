"""Lifestyle trait scores as an engine-free Ibis expression (DuckDB, PostgreSQL, Spark).

Input tables:

- ``lines``: member_id, item_id, quantity, line_total_cents (lines of counted orders in
  the lookback window);
- ``item_traits``: item_id, trait: which items signal which trait (from the mapping).
"""

from __future__ import annotations

import ibis  # type: ignore[import-untyped]  # ibis 12 ships no type information
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa
from ibis import _

__all__ = ["ITEM_TRAITS_SCHEMA", "LINES_SCHEMA", "trait_scores"]

LINES_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("item_id", pa.string()),
        ("quantity", pa.int64()),
        ("line_total_cents", pa.int64()),
    ]
)
ITEM_TRAITS_SCHEMA = pa.schema([("item_id", pa.string()), ("trait", pa.string())])


def trait_scores(lines: ir.Table, item_traits: ir.Table, *, basis: str) -> ir.Table:
    """Each member's share of spend ("spend") or of items ordered ("lines") in each
    trait's items; only traits with at least one matching line appear.

    Columns: member_id, trait, matched (cents or items), total, score (0..1, rounded to
    6 decimals so engines agree).
    """
    measure = "line_total_cents" if basis == "spend" else "quantity"
    totals = lines.group_by("member_id").aggregate(total=lines[measure].sum().cast("int64"))
    joined = lines.join(item_traits, "item_id")
    matched = joined.group_by(["member_id", "trait"]).aggregate(
        matched=joined[measure].sum().cast("int64")
    )
    scored = matched.join(totals, "member_id")
    return scored.select(
        "member_id",
        "trait",
        "matched",
        "total",
        score=ibis.ifelse(
            _.total > 0, (_.matched.cast("float64") / _.total).round(6), ibis.literal(0.0)
        ),
    )
