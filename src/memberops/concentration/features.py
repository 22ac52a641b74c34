"""Spend per member and scope as an engine-free Ibis expression (DuckDB, PostgreSQL, Spark).

The input is the pipeline's `orders` table (counted orders of active members).
"""

from __future__ import annotations

from datetime import datetime

import ibis  # type: ignore[import-untyped]  # ibis 12 ships no type information
import ibis.expr.types as ir  # type: ignore[import-untyped]
from ibis import _

__all__ = ["CHAIN", "member_spend"]

CHAIN = "chain"


def member_spend(orders: ir.Table, as_of: datetime) -> ir.Table:
    """Net spend per member chain-wide and per store, ranked within the scope.

    Orders at or after `as_of` (naive UTC) are left out. rank = 1 for the highest spend;
    ties go to the lower member id, so the order is total and the same on every engine.
    Columns: scope ('chain' or a store id), member_id, spend_cents, rank, members (of
    the scope).
    """
    before = orders.filter(orders.ordered_at < ibis.timestamp(as_of.replace(tzinfo=None)))
    chain = before.group_by("member_id").aggregate(spend_cents=_.net_cents.sum().cast("int64"))
    chain = chain.select(
        scope=ibis.literal(CHAIN, "string"), member_id=_.member_id, spend_cents=_.spend_cents
    )
    stores = before.group_by(["store_id", "member_id"]).aggregate(
        spend_cents=_.net_cents.sum().cast("int64")
    )
    stores = stores.select(
        scope=_.store_id.cast("string"), member_id=_.member_id, spend_cents=_.spend_cents
    )
    both = chain.union(stores)
    order = ibis.window(group_by="scope", order_by=[ibis.desc("spend_cents"), "member_id"])
    return both.mutate(
        rank=(ibis.row_number().over(order) + 1).cast("int64"),
        members=_.member_id.count().over(ibis.window(group_by="scope")).cast("int64"),
    )
