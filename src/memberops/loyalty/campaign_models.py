"""Tables for campaign bonuses, coupons and request idempotency keys.

- `loyalty_campaigns` holds each campaign's current definition; every change (create,
  end) is a row of `loyalty_campaign_history` with the full definition, who and when.
- `loyalty_campaign_decisions` records, per order and campaign, whether the bonus applied
  and why not; the bonus itself is a ledger entry (`earn`, counter-account
  `campaign:<code>`) de-duplicated on the order like every posting.
- `loyalty_coupon_definitions` and `loyalty_coupons` (one row per personalised coupon):
  a coupon is consumed once by a guarded update, whoever races for it.
- `loyalty_idempotency_keys`: the first answer to a request key, kept 24 h.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = [
    "CampaignDecision",
    "CampaignHistory",
    "Coupon",
    "CouponDefinition",
    "IdempotencyKey",
    "LoyaltyCampaign",
]

_MOVE = {"member_owned": "move"}


class LoyaltyCampaign(Base):
    """A campaign's current definition (`definition` holds the validated rule)."""

    __tablename__ = "loyalty_campaigns"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12), default="active")  # active|ended
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(120))


class CampaignHistory(Base):
    """Every version of a campaign, append-only."""

    __tablename__ = "loyalty_campaign_history"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(IdString(), ForeignKey("loyalty_campaigns.id"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(12))  # create|end
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(200))


class CampaignDecision(Base):
    """Whether a campaign applied to an order, its bonus and the reason (once per order)."""

    __tablename__ = "loyalty_campaign_decisions"
    __table_args__ = (
        UniqueConstraint("order_ref", "campaign_id"),
        Index("ix_loyalty_campaign_decisions_member", "member_id", "campaign_id"),
    )

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(IdString(), ForeignKey("loyalty_campaigns.id"))
    member_id: Mapped[str] = mapped_column(IdString(), ForeignKey("members.id"), info=_MOVE)
    order_ref: Mapped[str] = mapped_column(IdString())
    applied: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer, default=0)
    eligible_cents: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[str | None] = mapped_column(IdString())
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class CouponDefinition(Base):
    """A coupon definition (`definition` holds the validated rule)."""

    __tablename__ = "loyalty_coupon_definitions"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime] = mapped_column(UtcDateTime())
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))


class Coupon(Base):
    """One personalised coupon: issued to a member, redeemed at most once."""

    __tablename__ = "loyalty_coupons"
    # `seq` numbers a member's coupons of one definition. Issuers lock the member rows
    # first, so concurrent issuance cannot pass the per-member limit; no unique index,
    # because a merge moves the absorbed member's coupons to the survivor as they are.
    __table_args__ = (Index("ix_loyalty_coupons_definition_member", "definition_id", "member_id"),)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    definition_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("loyalty_coupon_definitions.id")
    )
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info=_MOVE
    )
    seq: Mapped[int] = mapped_column(Integer, default=1)
    # Indexed: order posting asks "is any coupon waiting?" for every chunk of orders.
    status: Mapped[str] = mapped_column(String(12), default="issued", index=True)  # issued|redeemed
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    issued_by: Mapped[str] = mapped_column(String(120))
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    redeemed_ref: Mapped[str | None] = mapped_column(String(170))
    redeemed_cents: Mapped[int | None] = mapped_column(Integer)


class IdempotencyKey(Base):
    """The first answer to a request key of one caller, replayed for 24 h."""

    __tablename__ = "loyalty_idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(160))
    key: Mapped[str] = mapped_column(String(120))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
