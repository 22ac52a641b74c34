"""The `lifestyle_scores` serving table: one row per member and trait, replaced by every run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime

__all__ = ["LifestyleScore"]


class LifestyleScore(Base):
    """A member's score for one trait (their share of spend or lines in the trait's items)
    and whether it passed the trait's threshold in the mapping of that run."""

    __tablename__ = "lifestyle_scores"
    __table_args__ = (Index("ix_lifestyle_scores_trait", "trait", "has_trait"),)

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    trait: Mapped[str] = mapped_column(String(40), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    has_trait: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())
