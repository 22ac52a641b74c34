"""Serving tables of the member 360 pipeline: every profile read is a primary-key read.

`member_profiles` (owned by members) holds the transaction and personalised JSON groups;
the pipeline adds the narrow per-member metrics that chain-wide ranks are read from, the
quarterly taste history, the last visit ("same as last time"), store profiles and one
watermark row per feature group.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, utcnow

__all__ = [
    "MemberLastVisit",
    "MemberMetrics",
    "MemberTasteSnapshot",
    "PipelineWatermark",
    "StoreProfile",
]


class MemberMetrics(Base):
    """Per-member totals; chain-wide and in-store spend ranks are indexed counts over it."""

    __tablename__ = "member_metrics"
    __table_args__ = (
        Index("ix_member_metrics_spend", "spend_cents"),
        Index("ix_member_metrics_store_spend", "home_store_id", "spend_cents"),
    )

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    home_store_id: Mapped[str | None] = mapped_column(IdString())
    home_store_source: Mapped[str] = mapped_column(String(8))  # given | visits
    spend_cents: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(Integer)
    first_visit_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_visit_at: Mapped[datetime] = mapped_column(UtcDateTime())
    spend_per_person_cents: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class MemberTasteSnapshot(Base):
    """One quarter of a member's history: visits, spend and top dishes in that quarter."""

    __tablename__ = "member_taste_snapshots"

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    quarter: Mapped[str] = mapped_column(String(7), primary_key=True)  # 2026Q3
    visits: Mapped[int] = mapped_column(Integer)
    spend_cents: Mapped[int] = mapped_column(BigInteger)
    top_dishes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class MemberLastVisit(Base):
    """ "Same as last time": the lines of the member's latest visit."""

    __tablename__ = "member_last_visits"

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    store_id: Mapped[str] = mapped_column(IdString())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    meal_type: Mapped[str] = mapped_column(String(16))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class StoreProfile(Base):
    """Per store, over its home members (see docs/pipeline.md)."""

    __tablename__ = "store_profiles"

    store_id: Mapped[str] = mapped_column(IdString(), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(BigInteger)
    spend_cents: Mapped[int] = mapped_column(BigInteger)
    visits_per_member: Mapped[float] = mapped_column(Float)
    visits_per_member_month: Mapped[float] = mapped_column(Float)
    spend_p25_cents: Mapped[float] = mapped_column(Float)
    spend_p50_cents: Mapped[float] = mapped_column(Float)
    spend_p75_cents: Mapped[float] = mapped_column(Float)
    premium_members: Mapped[int] = mapped_column(Integer)
    value_members: Mapped[int] = mapped_column(Integer)
    premium_share: Mapped[float] = mapped_column(Float)
    value_share: Mapped[float] = mapped_column(Float)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())


class PipelineWatermark(Base):
    """What a feature group reflects: changes up to `watermark`, computed `as_of`."""

    __tablename__ = "pipeline_watermarks"

    feature_group: Mapped[str] = mapped_column(String(32), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UtcDateTime())
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())
    engine: Mapped[str] = mapped_column(String(12))
    members_refreshed: Mapped[int] = mapped_column(Integer, default=0)
    full: Mapped[bool] = mapped_column(default=False)
