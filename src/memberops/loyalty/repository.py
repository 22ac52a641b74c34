"""Loyalty queries: accounts under lock, lots, entries, tier state, counted-order facts.

Every write to a member's points starts by locking that member's account row
(`SELECT ... FOR UPDATE` on PostgreSQL, ordered by member id so two transactions never
wait on each other in a cycle; SQLite's `BEGIN IMMEDIATE` already serialises writers).
Reads that follow the lock see every committed change (Read Committed re-reads), so a
balance checked under the lock cannot be spent twice (reliability L3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from memberops.db import table_of, utcnow
from memberops.loyalty.models import LoyaltyAccount, LoyaltyEntry, LoyaltyLot, TierState
from memberops.loyalty.rules import OrderFact
from memberops.members.models import Member
from memberops.orders.counted import counted_orders_query

__all__ = [
    "IN_CHUNK",
    "TierStateRow",
    "counted_facts",
    "ensure_accounts",
    "existing_keys",
    "lock_accounts",
    "lock_tiered_members",
    "open_lots",
    "order_points",
    "tier_states",
    "tiered_states",
    "update_tier_states",
    "window_orders",
    "window_totals",
]

IN_CHUNK = 900


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield list(values[start : start + IN_CHUNK])


def ensure_accounts(session: Session, member_ids: Iterable[str]) -> None:
    """Create missing accounts (concurrent creators do not collide: ON CONFLICT DO NOTHING)."""
    ids = sorted(set(member_ids))
    if not ids:
        return
    dialect = session.get_bind().dialect.name
    now = utcnow()
    rows = [
        {
            "member_id": m,
            "balance": 0,
            "owed": 0,
            "lifetime_earned": 0,
            "version": 0,
            "updated_at": now,
        }
        for m in ids
    ]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for start in range(0, len(rows), IN_CHUNK):
        stmt = insert(LoyaltyAccount).on_conflict_do_nothing(index_elements=["member_id"])
        session.execute(stmt, rows[start : start + IN_CHUNK])


def lock_accounts(session: Session, member_ids: Iterable[str]) -> dict[str, LoyaltyAccount]:
    """Create and lock the accounts, in member-id order; fresh values from the database."""
    ids = sorted(set(member_ids))
    ensure_accounts(session, ids)
    found: dict[str, LoyaltyAccount] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(LoyaltyAccount)
            .where(LoyaltyAccount.member_id.in_(chunk))
            .order_by(LoyaltyAccount.member_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        for account in session.scalars(stmt):
            found[account.member_id] = account
    return found


def open_lots(
    session: Session, member_ids: Sequence[str], *, due_by: datetime | None = None
) -> list[LoyaltyLot]:
    """Lots with points left (only those expiring by `due_by` when given), fresh."""
    lots: list[LoyaltyLot] = []
    for chunk in _chunks(list(member_ids)):
        stmt = select(LoyaltyLot).where(LoyaltyLot.member_id.in_(chunk), LoyaltyLot.remaining > 0)
        if due_by is not None:
            stmt = stmt.where(LoyaltyLot.expires_at <= due_by)
        stmt = stmt.order_by(LoyaltyLot.expires_at, LoyaltyLot.id).execution_options(
            populate_existing=True
        )
        lots.extend(session.scalars(stmt))
    return lots


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which de-duplication keys are already posted."""
    found: set[str] = set()
    for chunk in _chunks(list(keys)):
        found.update(
            session.scalars(select(LoyaltyEntry.dedup_key).where(LoyaltyEntry.dedup_key.in_(chunk)))
        )
    return found


def order_points(session: Session, order_id: str) -> tuple[int, int, int]:
    """(points earned, points reversed, money refunded so far) for one order."""
    earned = reversed_ = refunded = 0
    for type_, points, money in session.execute(
        select(LoyaltyEntry.type, LoyaltyEntry.points, LoyaltyEntry.money_cents).where(
            LoyaltyEntry.order_ref == order_id
        )
    ):
        if type_ == "earn":
            earned += points
        elif type_ == "reverse":
            reversed_ += -points
            refunded += money or 0
    return earned, reversed_, refunded


def tier_states(session: Session, member_ids: Sequence[str]) -> dict[str, TierState]:
    """Current tier states of these members (absent: never tiered, the base tier)."""
    found: dict[str, TierState] = {}
    for chunk in _chunks(list(member_ids)):
        for state in session.scalars(
            select(TierState)
            .where(TierState.member_id.in_(chunk))
            .execution_options(populate_existing=True)
        ):
            found[state.member_id] = state
    return found


def counted_facts(
    session: Session,
    member_ids: Sequence[str] | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, list[OrderFact]]:
    """Counted orders per member as tier facts (time, net cents), sorted by time."""
    facts: dict[str, list[OrderFact]] = {}
    chunks: Iterable[list[str] | None] = (
        _chunks(list(member_ids)) if member_ids is not None else [None]
    )
    for chunk in chunks:
        counted = counted_orders_query(
            member_ids=chunk, ordered_since=since, ordered_until=until
        ).subquery("counted")
        stmt = select(counted.c.member_id, counted.c.ordered_at, counted.c.net_cents).order_by(
            counted.c.member_id, counted.c.ordered_at
        )
        row: Any
        for row in session.execute(stmt):
            facts.setdefault(row[0], []).append(OrderFact(row[1], int(row[2])))
    return facts


def counted_orders_by_id(session: Session, order_ids: Sequence[str]) -> list[Any]:
    """The counted rows of these orders (voided or member-less orders are absent)."""
    rows: list[Any] = []
    for chunk in _chunks(list(order_ids)):
        counted = counted_orders_query().subquery("counted")
        rows.extend(
            session.execute(
                select(
                    counted.c.order_id,
                    counted.c.member_id,
                    counted.c.ordered_at,
                    counted.c.total_cents,
                    counted.c.source,
                ).where(counted.c.order_id.in_(chunk))
            ).all()
        )
    return rows


def spend_by_member(
    session: Session, member_ids: Sequence[str], start: datetime, end: datetime
) -> dict[str, tuple[int, int, datetime | None]]:
    """(spend, visits, last visit) per member over [start, end), counting net > 0 orders."""
    out: dict[str, tuple[int, int, datetime | None]] = {}
    for chunk in _chunks(list(member_ids)):
        counted = counted_orders_query(
            member_ids=chunk, ordered_since=start, ordered_until=end
        ).subquery("counted")
        stmt = (
            select(
                counted.c.member_id,
                func.sum(counted.c.net_cents),
                func.count(),
                func.max(counted.c.ordered_at),
            )
            .where(counted.c.net_cents > 0)
            .group_by(counted.c.member_id)
        )
        row: Any
        for row in session.execute(stmt):
            out[row[0]] = (int(row[1]), int(row[2]), row[3])
    return out


# --------------------------------------------------------------------------- period end
# The period-end job works on ranges of member ids (`lo <= member_id <= hi`) instead of
# lists: one statement per range whatever its size, and no limit on bound parameters.
UPDATE_CHUNK = 5000


def lock_tiered_members(session: Session, lo: str, hi: str, base_code: str) -> None:
    """Lock the member rows of tiered members in a range, in id order (PostgreSQL).

    The same rows and order as `members.service.lock_members` on those ids, in one
    statement; SQLite already serialises writers.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    tiered = select(TierState.member_id).where(
        TierState.member_id.between(lo, hi), TierState.tier_code != base_code
    )
    session.execute(
        select(Member.id)
        .where(Member.id.in_(tiered))
        .order_by(Member.id)
        .with_for_update(key_share=True)
    ).all()


TierStateRow = tuple[
    str, str, datetime, int, datetime | None, str | None, datetime | None, datetime | None
]


def tiered_states(session: Session, lo: str, hi: str, base_code: str) -> list[TierStateRow]:
    """(member, tier, since, grace used, evaluated through, floor, floor until, joined)
    of the members above the base tier in a range, in id order, fresh from the database."""
    stmt = (
        select(
            TierState.member_id,
            TierState.tier_code,
            TierState.since,
            TierState.grace_used,
            TierState.evaluated_through,
            TierState.floor_code,
            TierState.floor_until,
            Member.created_at,
        )
        .outerjoin(Member, Member.id == TierState.member_id)
        .where(TierState.member_id.between(lo, hi), TierState.tier_code != base_code)
        .order_by(TierState.member_id)
    )
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def window_totals(
    session: Session, lo: str, hi: str, start: datetime, end: datetime
) -> dict[str, tuple[int, int, datetime | None]]:
    """(spend, visits, last visit) per member of a range over [start, end), counting net > 0
    orders: one grouped query (the same figures as `spend_by_member`)."""
    counted = counted_orders_query(ordered_since=start, ordered_until=end).subquery("counted")
    stmt = (
        select(
            counted.c.member_id,
            func.sum(counted.c.net_cents),
            func.count(),
            func.max(counted.c.ordered_at),
        )
        .where(counted.c.member_id.between(lo, hi), counted.c.net_cents > 0)
        .group_by(counted.c.member_id)
    )
    return {row[0]: (int(row[1]), int(row[2]), row[3]) for row in session.execute(stmt)}


def window_orders(
    session: Session, lo: str, hi: str, start: datetime, end: datetime
) -> list[tuple[str, datetime, int]]:
    """(member, time, net cents) of the net > 0 counted orders of a range in [start, end)."""
    counted = counted_orders_query(ordered_since=start, ordered_until=end).subquery("counted")
    stmt = select(counted.c.member_id, counted.c.ordered_at, counted.c.net_cents).where(
        counted.c.member_id.between(lo, hi), counted.c.net_cents > 0
    )
    return [(row[0], row[1], int(row[2])) for row in session.execute(stmt)]


def update_tier_states(session: Session, member_ids: Sequence[str], values: dict[str, Any]) -> None:
    """Set the same values on many tier states (a few statements, not one per member)."""
    table = table_of(TierState)
    postgresql = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(member_ids), UPDATE_CHUNK):
        ids = list(member_ids[start : start + UPDATE_CHUNK])
        # PostgreSQL plans one array parameter far faster than thousands of IN values.
        match = (
            table.c.member_id == any_(bindparam("ids", ids, type_=ARRAY(String)))
            if postgresql
            else table.c.member_id.in_(ids)
        )
        session.execute(update(table).where(match).values(**values))
