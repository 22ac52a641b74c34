"""The `fan_levels` serving table: one row per member, replaced by every run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime

__all__ = ["FanLevelRow"]


class FanLevelRow(Base):
    """A member's fan level and communication power as of the last run."""

    __tablename__ = "fan_levels"
    __table_args__ = (
        Index("ix_fan_levels_level", "level"),
        Index("ix_fan_levels_communication_score", "communication_score"),
    )

    # Derived: recomputed from orders and events, so merges and erasure drop the row.
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    level: Mapped[str] = mapped_column(String(16))
    visits_window: Mapped[int] = mapped_column(Integer)
    repurchase_rate: Mapped[float] = mapped_column(Float)
    shares: Mapped[int] = mapped_column(Integer)
    referrals: Mapped[int] = mapped_column(Integer)
    reviews: Mapped[int] = mapped_column(Integer)
    referred_members: Mapped[int] = mapped_column(Integer)
    referred_revenue_cents: Mapped[int] = mapped_column(BigInteger)
    communication_score: Mapped[float] = mapped_column(Float)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())
