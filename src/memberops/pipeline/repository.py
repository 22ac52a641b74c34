"""Queries of the pipeline: what changed since a watermark, and the serving rows.

Counted orders and lines are read only through `memberops.orders.counted`; the change
scan reads timestamps (ingestion, adjustments, merges, erasures, label events) to find
the members whose features must be recomputed, never to decide what counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from memberops.catalog.models import Item, Store
from memberops.identity.models import MergeRecord
from memberops.labels.models import Label, LabelEvent
from memberops.members.models import Member, MemberProfile, MemberStatus
from memberops.orders.counted import counted_order_lines_query, counted_orders_query
from memberops.orders.models import Order, OrderAdjustment
from memberops.pipeline.models import (
    MemberLastVisit,
    MemberMetrics,
    MemberTasteSnapshot,
)

__all__ = [
    "CHUNK",
    "active_members",
    "changed_members",
    "chunks",
    "counted_line_rows",
    "counted_order_rows",
    "delete_member_rows",
    "item_names",
    "members_with_labels",
    "members_with_orders",
    "metrics_rows",
    "rank_counts",
    "store_codes",
]

CHUNK = 5_000


def chunks(ids: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    """`ids` in lists of at most `size` (bounded IN lists on every database)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def changed_members(session: Session, since: datetime) -> set[str]:
    """Members whose features may have changed at or after `since`.

    New or late counted orders (by ingestion time), refunds and voids, merges and
    unmerges (both sides), erasures and other member changes (home store), and label
    events (staff-recorded needs added, disputed or deleted).
    """
    counted = counted_orders_query().subquery("counted")
    found: set[str] = set(
        session.scalars(select(counted.c.member_id).where(counted.c.ingested_at >= since))
    )
    adjusted = select(OrderAdjustment.member_id, Order.member_id).outerjoin(
        Order, Order.id == OrderAdjustment.order_id
    )
    for own, of_order in session.execute(adjusted.where(OrderAdjustment.ingested_at >= since)):
        found.update(m for m in (own, of_order) if m)
    merges = select(MergeRecord.survivor_id, MergeRecord.absorbed_id).where(
        or_(MergeRecord.created_at >= since, MergeRecord.undone_at >= since)
    )
    for survivor, absorbed in session.execute(merges):
        found.update((survivor, absorbed))
    found.update(
        session.scalars(
            select(Member.id).where(or_(Member.updated_at >= since, Member.erased_at >= since))
        )
    )
    found.update(session.scalars(select(LabelEvent.member_id).where(LabelEvent.at >= since)))
    return found


def active_members(
    session: Session, member_ids: Sequence[str] | None
) -> list[tuple[str, str | None]]:
    """(member id, given home store) of active members, all or among `member_ids`."""
    stmt = select(Member.id, Member.home_store_id).where(Member.status == MemberStatus.ACTIVE)
    if member_ids is None:
        return [(m, s) for m, s in session.execute(stmt.order_by(Member.id))]
    out: list[tuple[str, str | None]] = []
    for chunk in chunks(sorted(member_ids)):
        out.extend((m, s) for m, s in session.execute(stmt.where(Member.id.in_(chunk))))
    return out


def members_with_labels(
    session: Session, category: str, sources: Sequence[str], member_ids: Iterable[str]
) -> set[str]:
    """Those of `member_ids` holding an active label of `category` from one of `sources`.

    A pre-filter only (one query instead of one label read per member): who may see
    which label, validity and consent are still decided by the label read itself.
    """
    stmt = (
        select(Label.member_id)
        .where(Label.category == category, Label.source.in_(list(sources)))
        .where(Label.status == "active")
        .distinct()
    )
    wanted = set(member_ids)
    return {m for m in session.scalars(stmt) if m in wanted}


def members_with_orders(session: Session) -> list[str]:
    """Members that own at least one counted order."""
    counted = counted_orders_query().subquery("counted")
    return list(session.scalars(select(counted.c.member_id).distinct()))


def counted_order_rows(session: Session, member_ids: Sequence[str] | None) -> Iterable[Any]:
    """Counted orders (all, or of `member_ids`), through the counted-orders query."""
    if member_ids is None:
        yield from session.execute(counted_orders_query()).yield_per(50_000)
        return
    for chunk in chunks(member_ids):
        yield from session.execute(counted_orders_query(member_ids=chunk))


def _line_columns(query: Any) -> Any:
    """The columns extraction reads, modifiers as the stored JSON text.

    Decoding every line's modifiers through the JSON type cost more than the rest of the
    row (most lines have none); the caller decodes only non-empty lists.
    """
    q = query.subquery("lines")
    return select(
        q.c.member_id,
        q.c.order_id,
        q.c.line_no,
        q.c.item_id,
        q.c.quantity,
        q.c.line_total_cents,
        type_coerce(q.c.modifiers, Text).label("modifiers"),
    )


def counted_line_rows(session: Session, member_ids: Sequence[str] | None) -> Iterable[Any]:
    """Lines of counted orders (all, or of `member_ids`); modifiers as JSON text or a list."""
    if member_ids is None:
        yield from session.execute(_line_columns(counted_order_lines_query())).yield_per(50_000)
        return
    for chunk in chunks(member_ids):
        yield from session.execute(_line_columns(counted_order_lines_query(member_ids=chunk)))


def delete_member_rows(session: Session, member_ids: Sequence[str]) -> None:
    """Remove every serving row of `member_ids` (before re-inserting fresh ones)."""
    for chunk in chunks(member_ids):
        for model in (MemberProfile, MemberMetrics, MemberLastVisit, MemberTasteSnapshot):
            session.execute(delete(model).where(model.member_id.in_(chunk)))


def metrics_rows(session: Session) -> list[Any]:
    """Every member's metrics row (the narrow table chain-wide features read)."""
    return list(
        session.execute(
            select(
                MemberMetrics.member_id,
                MemberMetrics.home_store_id,
                MemberMetrics.home_store_source,
                MemberMetrics.spend_cents,
                MemberMetrics.orders,
                MemberMetrics.visits,
                MemberMetrics.first_visit_at,
                MemberMetrics.last_visit_at,
                MemberMetrics.spend_per_person_cents,
            )
        )
    )


def rank_counts(session: Session, metrics: MemberMetrics) -> dict[str, int]:
    """Indexed counts that place one member chain-wide and in the home store."""
    m = MemberMetrics
    chain = select(
        func.count().filter(m.spend_cents > metrics.spend_cents),
        func.count().filter(m.spend_cents < metrics.spend_cents),
        func.count(),
    )
    above, below, total = session.execute(chain).one()
    store = chain.where(
        m.home_store_id == metrics.home_store_id
        if metrics.home_store_id is not None
        else m.home_store_id.is_(None)
    )
    s_above, s_below, s_total = session.execute(store).one()
    return {
        "above": above,
        "below": below,
        "total": total,
        "store_above": s_above,
        "store_below": s_below,
        "store_total": s_total,
    }


def item_names(session: Session, item_ids: Iterable[str]) -> dict[str, str]:
    """Item id -> display name."""
    ids = sorted(set(item_ids))
    out: dict[str, str] = {}
    for chunk in chunks(ids):
        out.update(
            (i, n) for i, n in session.execute(select(Item.id, Item.name).where(Item.id.in_(chunk)))
        )
    return out


def store_codes(session: Session) -> dict[str, str]:
    """Store id -> store code."""
    return {i: c for i, c in session.execute(select(Store.id, Store.code))}
