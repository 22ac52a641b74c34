"""Queries over orders that other parts of the product need, on the shared base."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from memberops.orders.models import EngagementEvent, Order

__all__ = [
    "engagement_events_query",
    "has_visited_store",
    "order_attributions",
    "order_counts",
    "store_ids_of_orders",
]


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


def order_counts(session: Session) -> dict[str, int]:
    """How many orders are stored, and how many of them belong to no member."""
    total = session.scalar(select(func.count()).select_from(Order)) or 0
    unattached = (
        session.scalar(select(func.count()).select_from(Order).where(Order.member_id.is_(None)))
        or 0
    )
    return {"orders": total, "orders_without_member": unattached}


def order_attributions(session: Session) -> Iterator[tuple[str, str, str, str | None]]:
    """Every order as (id, source, source order id, member id), streamed."""
    rows = session.execute(
        select(Order.id, Order.source, Order.source_order_id, Order.member_id)
    ).yield_per(20_000)
    yield from ((order_id, src, src_id, member_id) for order_id, src, src_id, member_id in rows)


def has_visited_store(session: Session, member_id: str, store_id: str) -> bool:
    """Whether the member has any order at the store (a staff read outside it is noted)."""
    found = session.execute(
        select(Order.id).where(Order.member_id == member_id, Order.store_id == store_id).limit(1)
    ).first()
    return found is not None


def engagement_events_query(
    *, types: Iterable[str] | None = None, occurred_until: datetime | None = None
) -> Select[*tuple[Any, ...]]:
    """Engagement events of members: event_id, type, member_id, store_id, occurred_at,
    rating, referred_identifier_id (`occurred_until` exclusive)."""
    stmt = select(
        EngagementEvent.id.label("event_id"),
        EngagementEvent.type,
        EngagementEvent.member_id,
        EngagementEvent.store_id,
        EngagementEvent.occurred_at,
        EngagementEvent.rating,
        EngagementEvent.referred_identifier_id,
    ).where(EngagementEvent.member_id.is_not(None))
    if types is not None:
        stmt = stmt.where(EngagementEvent.type.in_(list(types)))
    if occurred_until is not None:
        stmt = stmt.where(EngagementEvent.occurred_at < occurred_until)
    return stmt
