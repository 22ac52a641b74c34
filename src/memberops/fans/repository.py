"""What fan levels read and write: counted orders, engagement events and identifier
holders out as Arrow; the `fan_levels` serving table in and out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.orm import Session

from memberops.db import bulk_insert
from memberops.fans.features import EVENTS_SCHEMA, HOLDERS_SCHEMA
from memberops.fans.models import FanLevelRow
from memberops.identity.repository import identifier_holders
from memberops.orders.counted import counted_orders_query
from memberops.orders.repository import engagement_events_query
from memberops.pipeline.engines import INPUT_SCHEMAS
from memberops.pipeline.extract import naive_utc
from memberops.pipeline.repository import active_members

__all__ = [
    "active_member_ids",
    "column_query",
    "counted_orders_table",
    "events_table",
    "holders_table",
    "level_counts",
    "replace_levels",
    "top_communicators",
]


def active_member_ids(session: Session) -> set[str]:
    """Members who are active (erased members have no fan level)."""
    return {member_id for member_id, _store in active_members(session, None)}


def counted_orders_table(session: Session, *, until: datetime, members: set[str]) -> pa.Table:
    """Counted orders of `members` before `until`, in the pipeline's orders schema."""
    schema = INPUT_SCHEMAS["orders"]
    cols: dict[str, list[Any]] = {name: [] for name in schema.names}
    for row in session.execute(counted_orders_query(ordered_until=until)).yield_per(50_000):
        if row.member_id not in members:
            continue
        for name in schema.names:
            value = getattr(row, name)
            cols[name].append(naive_utc(value) if name == "ordered_at" else value)
    return pa.table(cols, schema=schema)


def events_table(session: Session, *, until: datetime, members: set[str]) -> pa.Table:
    """Shares, referrals and reviews by `members` before `until`."""
    cols: dict[str, list[Any]] = {name: [] for name in EVENTS_SCHEMA.names}
    stmt = engagement_events_query(types=("share", "referral", "review"), occurred_until=until)
    for row in session.execute(stmt):
        if row.member_id not in members:
            continue
        cols["event_id"].append(row.event_id)
        cols["type"].append(row.type)
        cols["member_id"].append(row.member_id)
        cols["occurred_at"].append(naive_utc(row.occurred_at))
        cols["referred_identifier_id"].append(row.referred_identifier_id)
    return pa.table(cols, schema=EVENTS_SCHEMA)


def holders_table(session: Session, identifier_ids: Iterable[str | None]) -> pa.Table:
    """The current holder of each referred identifier."""
    held = identifier_holders(session, [i for i in identifier_ids if i])
    return pa.table(
        {"identifier_id": list(held), "member_id": list(held.values())}, schema=HOLDERS_SCHEMA
    )


def replace_levels(session: Session, rows: list[dict[str, Any]]) -> None:
    """Replace every fan-level row (a run recomputes the whole chain)."""
    if session.get_bind().dialect.name == "postgresql":
        # Two runs at once: the second waits for the first to commit, then deletes its
        # rows (a plain DELETE would miss rows committed after it began and the insert
        # would then collide on the primary key).
        session.execute(text("LOCK TABLE fan_levels IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(delete(FanLevelRow))
    bulk_insert(session, FanLevelRow, rows)


def level_counts(session: Session) -> tuple[dict[str, int], datetime | None]:
    """Members per level and the "as of" of the stored run (None before the first)."""
    rows = session.execute(
        select(FanLevelRow.level, func.count(), func.max(FanLevelRow.as_of)).group_by(
            FanLevelRow.level
        )
    ).all()
    counts = {level: int(n) for level, n, _at in rows}
    stamps = [at for _level, _n, at in rows if at is not None]
    return counts, max(stamps) if stamps else None


def top_communicators(session: Session, *, limit: int) -> list[dict[str, Any]]:
    """Members with the highest communication score (ties: more revenue brought, then
    member id), only those with a positive score."""
    stmt = (
        select(FanLevelRow)
        .where(FanLevelRow.communication_score > 0)
        .order_by(
            FanLevelRow.communication_score.desc(),
            FanLevelRow.referred_revenue_cents.desc(),
            FanLevelRow.member_id,
        )
        .limit(limit)
    )
    return [
        {
            "member_id": r.member_id,
            "level": r.level,
            "shares": r.shares,
            "referrals": r.referrals,
            "reviews": r.reviews,
            "referred_members": r.referred_members,
            "referred_revenue_cents": r.referred_revenue_cents,
            "communication_score": r.communication_score,
        }
        for r in session.scalars(stmt)
    ]


def column_query(column: str) -> Callable[[Session], Select[*tuple[Any, ...]]]:
    """A segment query over one `fan_levels` column: member_id, value."""
    attribute = getattr(FanLevelRow, column)

    def query(session: Session) -> Select[*tuple[Any, ...]]:
        return select(FanLevelRow.member_id.label("member_id"), attribute.label("value"))

    query.__doc__ = f"Segment field fans.{column}: member_id, value."
    return query
