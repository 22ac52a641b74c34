"""Identifiers, their links to members, merges and the review queue.

An identifier value (a phone, a card number, a WeChat unionid...) is stored once,
encrypted, with a blind index for lookup. Links say which member holds it and whether
the holder was verified. Database constraints carry the two invariants that stop
two people from being fused: an exclusive identifier (card, app account, WeChat id)
has at most one active holder, and a member holds at most one active identifier of
each single-valued kind (one card, one app account, one unionid).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow
from memberops.identity.rules import EXCLUSIVE_KINDS, SINGLE_PER_MEMBER_KINDS

__all__ = ["Identifier", "IdentityReview", "MemberIdentifier", "MergeRecord"]


def _in_list(kinds: frozenset[str]) -> str:
    return ", ".join(f"'{k}'" for k in sorted(kinds))


_EXCLUSIVE_ACTIVE = text(f"status = 'active' AND kind IN ({_in_list(EXCLUSIVE_KINDS)})")
_SINGLE_ACTIVE = text(f"status = 'active' AND kind IN ({_in_list(SINGLE_PER_MEMBER_KINDS)})")


class Identifier(Base):
    __tablename__ = "identifiers"
    __table_args__ = (UniqueConstraint("blind_index"),)
    __encrypted__ = ("value_enc",)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(24))
    blind_index: Mapped[str] = mapped_column(String(64))
    index_key_id: Mapped[str] = mapped_column(String(32))
    value_enc: Mapped[str] = mapped_column(Text)  # the normalised value, encrypted
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class MemberIdentifier(Base):
    __tablename__ = "member_identifiers"
    __table_args__ = (
        Index(
            "uq_member_identifiers_exclusive_holder",
            "identifier_id",
            unique=True,
            sqlite_where=_EXCLUSIVE_ACTIVE,
            postgresql_where=_EXCLUSIVE_ACTIVE,
        ),
        Index(
            "uq_member_identifiers_single_kind",
            "member_id",
            "kind",
            unique=True,
            sqlite_where=_SINGLE_ACTIVE,
            postgresql_where=_SINGLE_ACTIVE,
        ),
        Index("ix_member_identifiers_identifier_status", "identifier_id", "status"),
    )

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    # Merges move links themselves (a shared phone must not be linked twice to one member).
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "custom"}
    )
    identifier_id: Mapped[str] = mapped_column(IdString(), ForeignKey("identifiers.id"))
    kind: Mapped[str] = mapped_column(String(24))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="active")
    source: Mapped[str | None] = mapped_column(String(32))
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class MergeRecord(Base):
    """One merge, with everything needed to undo it."""

    __tablename__ = "identity_merges"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    survivor_id: Mapped[str] = mapped_column(IdString(), ForeignKey("members.id"), index=True)
    absorbed_id: Mapped[str] = mapped_column(IdString(), ForeignKey("members.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)  # identifier kinds
    moved: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)  # table -> row ids
    moved_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    deactivated_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    survivor_before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120), default="system")
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    undone_by: Mapped[str | None] = mapped_column(String(120))


class IdentityReview(Base):
    """A case the resolver would not decide alone: a shared or contradictory identifier."""

    __tablename__ = "identity_reviews"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    member_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    identifier_id: Mapped[str | None] = mapped_column(IdString(), ForeignKey("identifiers.id"))
    detail: Mapped[str] = mapped_column(String(400))  # never holds a personal value
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolution: Mapped[str | None] = mapped_column(String(200))
