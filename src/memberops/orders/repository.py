"""Queries over orders that other parts of the product need, on the shared base."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from memberops.orders.models import Order

__all__ = ["store_ids_of_orders"]


def store_ids_of_orders(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The store id of each stored order, by (source, source_order_id)."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = session.execute(
        select(Order.source, Order.source_order_id, Order.store_id).where(
            tuple_(Order.source, Order.source_order_id).in_(wanted)
        )
    ).all()
    return {(source, source_id): store_id for source, source_id, store_id in rows}
