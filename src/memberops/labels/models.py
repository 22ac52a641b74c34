"""Labels with provenance, and the history of what happened to each.

Every label has a source (computed rule, staff, member self-declared, import), provenance
(who, when, which store, why), validity and status. Free text is encrypted. Sensitive
labels (health, allergy, religious or disability needs) carry the consent they rest on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = ["Label", "LabelEvent", "LabelReview"]


class Label(Base):
    __tablename__ = "labels"
    __encrypted__ = ("text_enc",)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    category: Mapped[str] = mapped_column(String(32), index=True)
    code: Mapped[str | None] = mapped_column(String(64), index=True)  # computed label code
    text_enc: Mapped[str | None] = mapped_column(Text)  # staff / member free text, encrypted
    source: Mapped[str] = mapped_column(String(12))  # computed | staff | member | import
    created_by: Mapped[str] = mapped_column(String(120))
    staff_id: Mapped[str | None] = mapped_column(String(64))
    store_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(200))
    rule_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # active | disputed | deleted | quarantined | expired
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitive_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_id: Mapped[str | None] = mapped_column(IdString())


class LabelEvent(Base):
    """created, disputed, deletion_requested, deleted, quarantined, restored, expired."""

    __tablename__ = "label_events"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    label_id: Mapped[str] = mapped_column(IdString(), ForeignKey("labels.id"), index=True)
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    action: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(200))


class LabelReview(Base):
    """A note the guard could not recognise, held (status "in_review") for a manager.

    The note's text stays encrypted on its label; the review carries the guard's reasons
    and categories only. Approving makes the label active, rejecting erases its text.
    """

    __tablename__ = "label_reviews"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    label_id: Mapped[str] = mapped_column(IdString(), ForeignKey("labels.id"), index=True)
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    store_code: Mapped[str | None] = mapped_column(String(32), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # pending | approved | rejected
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decision_reason: Mapped[str | None] = mapped_column(String(200))
