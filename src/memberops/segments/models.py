"""Stored segments: the definition and its versions, and who was in it when.

A membership row opens when a member enters a segment and closes (`left_at`) when they
leave; the open rows are the current membership. A partial unique index keeps one open
row per member and segment, so two materialisations racing cannot both add a member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = ["Segment", "SegmentMembership", "SegmentRun", "SegmentVersion"]


class Segment(Base):
    """A named definition; `version` counts its edits (see `SegmentVersion`)."""

    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    expression: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(400), default="")
    owner: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    materialised_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SegmentVersion(Base):
    """One saved version of a definition: what it said, who saved it, when."""

    __tablename__ = "segment_versions"
    __table_args__ = (UniqueConstraint("segment_id", "version"),)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    segment_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(400), default="")
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SegmentRun(Base):
    """One materialisation: the version it used and how many entered and left."""

    __tablename__ = "segment_runs"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    segment_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    entered: Mapped[int] = mapped_column(Integer)
    left: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))


class SegmentMembership(Base):
    """A member's stay in a segment: entered, and left (None while still in it)."""

    __tablename__ = "segment_memberships"
    __table_args__ = (
        # One open stay per member and segment: the invariant a racing materialise
        # would break (tests/segments/test_concurrency.py).
        Index(
            "uq_segment_memberships_open",
            "segment_id",
            "member_id",
            unique=True,
            sqlite_where=text("left_at IS NULL"),
            postgresql_where=text("left_at IS NULL"),
        ),
        Index("ix_segment_memberships_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    segment_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("segments.id", ondelete="CASCADE")
    )
    # Derived from the definition and the member's data: erasure deletes the rows; after
    # a merge the absorbed member (no longer active) leaves at the next materialise and
    # the survivor enters if they match.
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), info={"member_owned": "derived"}
    )
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
