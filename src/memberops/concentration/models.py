"""Serving tables of revenue concentration: per-scope summary and per-member spend rank."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime

__all__ = ["ConcentrationMember", "ConcentrationSummary"]


class ConcentrationSummary(Base):
    """One scope ('chain' or a store id): revenue, Gini, the top-20% share and the curve."""

    __tablename__ = "concentration_summaries"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
    gini: Mapped[float] = mapped_column(Float)
    top20_share: Mapped[float] = mapped_column(Float)
    # curve[p-1] = share of revenue of the top p% of members, p = 1..100.
    curve: Mapped[list[Any]] = mapped_column(JSON)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())


class ConcentrationMember(Base):
    """A member's net spend and rank (1 = highest) in one scope."""

    __tablename__ = "concentration_members"
    __table_args__ = (Index("ix_concentration_members_scope_rank", "scope", "rank"),)

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    spend_cents: Mapped[int] = mapped_column(BigInteger)
    rank: Mapped[int] = mapped_column(Integer)
