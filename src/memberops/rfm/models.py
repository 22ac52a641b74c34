"""The RFM serving table: one row per member and scope, from the latest run of that scope."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime

__all__ = ["RfmScore"]


class RfmScore(Base):
    """R, F, M scores and the named segment of a member, chain-wide or in one store.

    `scope` is 'chain' or a store id. A run replaces every row of its scope, so all rows
    of a scope share one `as_of`.
    """

    __tablename__ = "rfm_scores"
    __table_args__ = (
        Index("ix_rfm_scores_scope_segment", "scope", "segment"),
        Index("ix_rfm_scores_scope_rf", "scope", "r", "f"),
    )

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    r: Mapped[int] = mapped_column(Integer)
    f: Mapped[int] = mapped_column(Integer)
    m: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(24))
    recency_days: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(Integer)
    spend_cents: Mapped[int] = mapped_column(BigInteger)
    bins: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())
