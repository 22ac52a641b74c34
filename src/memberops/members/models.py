"""The member: one row per person the chain knows, with the four profile groups.

Basic info is encrypted at rest (name, nickname, birthday); contact identifiers live in
`identity` (encrypted, blind-indexed). Membership info (tier, points, discount, home store)
sits here so the loyalty engine can post in the same transaction as an order. Transaction
and personalised info are computed by the pipeline into `member_profiles`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = ["ENCRYPTED_MEMBER_FIELDS", "Member", "MemberProfile", "MemberStatus"]


class MemberStatus:
    ACTIVE = "active"
    MERGED = "merged"  # absorbed into `merged_into_id`; kept so the merge can be undone
    ERASED = "erased"  # personal data removed; orders kept under the member's pseudonymous id


# Column -> logical field name. Ciphertexts are bound to ("members", column, id).
ENCRYPTED_MEMBER_FIELDS = {
    "name_enc": "name",
    "nickname_enc": "nickname",
    "birthday_enc": "birthday",
}


class Member(Base):
    __tablename__ = "members"
    __encrypted__ = tuple(ENCRYPTED_MEMBER_FIELDS)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(12), default=MemberStatus.ACTIVE, index=True)
    merged_into_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    first_channel: Mapped[str | None] = mapped_column(String(24))

    # basic (encrypted; gender is a coarse optional attribute given by the member)
    name_enc: Mapped[str | None]
    nickname_enc: Mapped[str | None]
    birthday_enc: Mapped[str | None]
    gender: Mapped[str | None] = mapped_column(String(8))

    # membership
    tier_code: Mapped[str | None] = mapped_column(String(24))
    points_balance: Mapped[int] = mapped_column(Integer, default=0)
    discount_bp: Mapped[int | None] = mapped_column(Integer)  # basis points, e.g. 950 = 9.5%
    home_store_id: Mapped[str | None] = mapped_column(IdString(), ForeignKey("stores.id"))

    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MemberProfile(Base):
    """Computed transaction and personalised info, refreshed by the 360 pipeline."""

    __tablename__ = "member_profiles"

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    pipeline_version: Mapped[str] = mapped_column(String(16), default="")
    transaction: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    personalised: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
