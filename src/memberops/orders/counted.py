"""What a counted order is, defined once for labels, loyalty, the pipeline and analytics.

A counted order is an order that happened and belongs to a member:
- it has a member (anonymous sales count for stores, not for members);
- it is not voided (a void means the meal did not happen);
- its money is net of refunds (`net_cents = total_cents - refunded_cents`; a refund may
  arrive before its order and is matched once the order lands);
- it sits with the member's *current* identity: merges move orders to the survivor and
  unmerges move them back, so `orders.member_id` is always the current owner.

Every consumer builds on these selects instead of reading `orders`/`order_adjustments`
itself, so "counted" cannot drift between capabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from memberops.orders.models import Order, OrderAdjustment, OrderLine

__all__ = [
    "counted_order_lines_query",
    "counted_orders_query",
    "is_counted",
    "refunded_cents_query",
]


def _voided() -> Select[str | None]:
    return select(OrderAdjustment.order_id).where(
        OrderAdjustment.kind == "void", OrderAdjustment.order_id.is_not(None)
    )


def refunded_cents_query() -> Select[str | None, int]:
    """Refunded cents per order (orders with no refund are absent)."""
    return (
        select(
            OrderAdjustment.order_id.label("order_id"),
            func.sum(OrderAdjustment.amount_cents).label("refunded_cents"),
        )
        .where(OrderAdjustment.kind == "refund", OrderAdjustment.order_id.is_not(None))
        .group_by(OrderAdjustment.order_id)
    )


def counted_orders_query(
    *,
    member_ids: Sequence[str] | None = None,
    ordered_since: datetime | None = None,
    ordered_until: datetime | None = None,
) -> Select[*tuple[Any, ...]]:
    """One row per counted order, with its refunds folded in.

    Columns: order_id, member_id, store_id, ordered_at (UTC), utc_offset_minutes,
    meal_type, party_size, subtotal_cents, discount_cents, total_cents, refunded_cents,
    net_cents, source, ingested_at. `ordered_since` is inclusive, `ordered_until`
    exclusive.
    """
    refunds_query = refunded_cents_query()
    voided = _voided()
    conditions: list[ColumnElement[bool]] = [Order.member_id.is_not(None)]
    if member_ids is not None:
        conditions.append(Order.member_id.in_(list(member_ids)))
        # For a few members (the front desk, a profile), look only at their orders'
        # adjustments instead of aggregating every refund in the chain on each read.
        theirs = select(Order.id).where(Order.member_id.in_(list(member_ids)))
        refunds_query = refunds_query.where(OrderAdjustment.order_id.in_(theirs))
        voided = voided.where(OrderAdjustment.order_id.in_(theirs))
    conditions.append(Order.id.not_in(voided))
    refunds = refunds_query.subquery("refunds")
    refunded = func.coalesce(refunds.c.refunded_cents, 0)
    if ordered_since is not None:
        conditions.append(Order.ordered_at >= ordered_since)
    if ordered_until is not None:
        conditions.append(Order.ordered_at < ordered_until)
    return (
        select(
            Order.id.label("order_id"),
            Order.member_id.label("member_id"),
            Order.store_id.label("store_id"),
            Order.ordered_at.label("ordered_at"),
            Order.utc_offset_minutes.label("utc_offset_minutes"),
            Order.meal_type.label("meal_type"),
            Order.party_size.label("party_size"),
            Order.subtotal_cents.label("subtotal_cents"),
            Order.discount_cents.label("discount_cents"),
            Order.total_cents.label("total_cents"),
            refunded.label("refunded_cents"),
            (Order.total_cents - refunded).label("net_cents"),
            Order.source.label("source"),
            Order.ingested_at.label("ingested_at"),
        )
        .outerjoin(refunds, refunds.c.order_id == Order.id)
        .where(and_(*conditions))
    )


def counted_order_lines_query(
    *,
    member_ids: Sequence[str] | None = None,
    ordered_since: datetime | None = None,
    ordered_until: datetime | None = None,
) -> Select[*tuple[Any, ...]]:
    """The lines of counted orders.

    Columns: order_id, member_id, store_id, ordered_at, line_no, item_id, quantity,
    unit_price_cents, line_total_cents, modifiers (a JSON list).
    """
    orders = counted_orders_query(
        member_ids=member_ids, ordered_since=ordered_since, ordered_until=ordered_until
    ).subquery("counted")
    return select(
        orders.c.order_id,
        orders.c.member_id,
        orders.c.store_id,
        orders.c.ordered_at,
        OrderLine.line_no,
        OrderLine.item_id,
        OrderLine.quantity,
        OrderLine.unit_price_cents,
        OrderLine.line_total_cents,
        OrderLine.modifiers,
    ).join(OrderLine, OrderLine.order_id == orders.c.order_id)


def is_counted(session: Session, order_id: str) -> bool:
    """Whether one order counts (has a member and is not voided)."""
    stmt = counted_orders_query().where(Order.id == order_id)
    return session.execute(stmt).first() is not None
