"""Loyalty tables: policies, accounts, the append-only ledger, lots and what consumed
them, redemptions, tier state and history, vouchers and partner conversions.

The ledger is append-only: rows of `loyalty_entries`, `loyalty_lots` (points column) and
`loyalty_lot_moves` are never updated or deleted. `loyalty_accounts.balance` and `owed`
are caches that every posting updates in the same transaction; `ledger verify` proves
them equal to the entries. Member columns are `member_owned="custom"`: identity does not
move these rows, loyalty's merge handler moves balances and lots by postings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = [
    "LotMove",
    "LoyaltyAccount",
    "LoyaltyEntry",
    "LoyaltyLot",
    "PartnerConversion",
    "PartnerRate",
    "Redemption",
    "TierHistory",
    "TierPolicyDoc",
    "TierState",
    "Voucher",
]

_CUSTOM = {"member_owned": "custom"}


class TierPolicyDoc(Base):
    """A tier policy document and its history (one `active` row at a time)."""

    __tablename__ = "loyalty_policies"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft|active|retired
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    activated_by: Mapped[str | None] = mapped_column(String(120))


class LoyaltyAccount(Base):
    """A member's points position: spendable lots (`balance`) and points owed (`owed`)."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        # L3: the database itself refuses an overdraft, not only the service code.
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("owed >= 0", name="owed_not_negative"),
    )

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info=_CUSTOM
    )
    balance: Mapped[int] = mapped_column(Integer, default=0)
    owed: Mapped[int] = mapped_column(Integer, default=0)
    lifetime_earned: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LoyaltyEntry(Base):
    """One posting on a member account against a counter-account (append-only).

    `points` is the member leg (earn +, redeem -); the counter-account carries `-points`.
    `dedup_key` names the business document (source system + order, refund, redemption,
    expiry of a lot, merge), so a retry or replay cannot post twice (L4).
    """

    __tablename__ = "loyalty_entries"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        Index("ix_loyalty_entries_member_at", "member_id", "created_at"),
        Index("ix_loyalty_entries_order", "order_ref"),
    )

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(IdString(), ForeignKey("members.id"), info=_CUSTOM)
    type: Mapped[str] = mapped_column(String(8))  # earn|redeem|expire|adjust|reverse|convert
    points: Mapped[int] = mapped_column(Integer)
    counter_account: Mapped[str] = mapped_column(String(40))
    source_system: Mapped[str] = mapped_column(String(40))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(120))
    dedup_key: Mapped[str] = mapped_column(String(240))
    order_ref: Mapped[str | None] = mapped_column(IdString())
    money_cents: Mapped[int | None] = mapped_column(Integer)
    owed_change: Mapped[int] = mapped_column(Integer, default=0)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(200))


class LoyaltyLot(Base):
    """Points that arrived together and expire together; `remaining` is a cache of
    `points - sum(moves)`, checked by `ledger verify`."""

    __tablename__ = "loyalty_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        Index("ix_loyalty_lots_member_open", "member_id", "remaining", "expires_at"),
        Index("ix_loyalty_lots_expiry", "expires_at"),
    )

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(IdString(), ForeignKey("members.id"), info=_CUSTOM)
    entry_id: Mapped[str] = mapped_column(IdString(), ForeignKey("loyalty_entries.id"))
    points: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    earned_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    order_ref: Mapped[str | None] = mapped_column(IdString())
    origin_lot_id: Mapped[str | None] = mapped_column(IdString())  # moved by a merge
    merge_ref: Mapped[str | None] = mapped_column(IdString())


class LotMove(Base):
    """Points taken from (positive) or put back into (negative) a lot by an entry."""

    __tablename__ = "loyalty_lot_moves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lot_id: Mapped[str] = mapped_column(IdString(), ForeignKey("loyalty_lots.id"), index=True)
    entry_id: Mapped[str] = mapped_column(IdString(), ForeignKey("loyalty_entries.id"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))  # redeem|expire|reverse|merge|convert|restore


class Redemption(Base):
    """A redemption at checkout, de-duplicated on its business document."""

    __tablename__ = "loyalty_redemptions"
    __table_args__ = (UniqueConstraint("source_system", "source_redemption_id"),)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info=_CUSTOM
    )
    source_system: Mapped[str] = mapped_column(String(40))
    source_redemption_id: Mapped[str] = mapped_column(String(120))
    points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="done")  # done|cancelled
    entry_id: Mapped[str] = mapped_column(IdString())
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TierState(Base):
    """A member's current tier (derived from history by the policy; L8)."""

    __tablename__ = "loyalty_tier_states"

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info=_CUSTOM
    )
    tier_code: Mapped[str] = mapped_column(String(24))
    since: Mapped[datetime] = mapped_column(UtcDateTime())
    grace_used: Mapped[int] = mapped_column(Integer, default=0)
    evaluated_through: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    floor_code: Mapped[str | None] = mapped_column(String(24))
    floor_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    floor_reason: Mapped[str | None] = mapped_column(String(200))
    policy_version: Mapped[int] = mapped_column(Integer, default=0)


class TierHistory(Base):
    """Every tier move (and kept decisions at period ends) with the metrics behind it."""

    __tablename__ = "loyalty_tier_history"
    __table_args__ = (
        # The period-end job is idempotent: one decision per member and period end.
        UniqueConstraint("member_id", "period_end"),
        Index("ix_loyalty_tier_history_member_at", "member_id", "at"),
    )

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(IdString(), ForeignKey("members.id"), info=_CUSTOM)
    from_code: Mapped[str | None] = mapped_column(String(24))
    to_code: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UtcDateTime())
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy_version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(200))


class Voucher(Base):
    """A voucher issued from points at a conversion."""

    __tablename__ = "loyalty_vouchers"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info=_CUSTOM
    )
    value_cents: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[str] = mapped_column(IdString())
    period: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(12), default="issued")  # issued|redeemed|expired
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    redeemed_ref: Mapped[str | None] = mapped_column(String(120))


class PartnerRate(Base):
    """A partner's exchange rate from a date on: units (miles) per 100 points."""

    __tablename__ = "loyalty_partner_rates"
    __table_args__ = (UniqueConstraint("partner", "effective_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime())
    units_per_100_points: Mapped[int] = mapped_column(Integer)


class PartnerConversion(Base):
    """Points converted into a partner's units, for the reconciliation file."""

    __tablename__ = "loyalty_partner_conversions"
    __table_args__ = (UniqueConstraint("partner", "request_id"),)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    partner: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str] = mapped_column(String(120))
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info=_CUSTOM
    )
    points: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    units_per_100_points: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[str] = mapped_column(IdString())
    at: Mapped[datetime] = mapped_column(UtcDateTime())
