"""Lifecycle serving tables: state per member and month, monthly flows, cohort retention.

Each run replaces all three (one consistent snapshot, one `as_of`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime

__all__ = ["LifecycleCohort", "LifecycleFlow", "LifecycleState"]


class LifecycleState(Base):
    """A member's state at the end of a month ('YYYY-MM'; the current month as of the run)."""

    __tablename__ = "lifecycle_states"
    __table_args__ = (Index("ix_lifecycle_states_month_state", "month", "state"),)

    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), primary_key=True, info={"member_owned": "derived"}
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())


class LifecycleFlow(Base):
    """Members who were `from_state` at the previous month end and `to_state` at this one
    ('none': the member's first month)."""

    __tablename__ = "lifecycle_flows"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    from_state: Mapped[str] = mapped_column(String(16), primary_key=True)
    to_state: Mapped[str] = mapped_column(String(16), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())


class LifecycleCohort(Base):
    """Members of a first-visit month (`cohort`) who visited `k` months later."""

    __tablename__ = "lifecycle_cohorts"

    cohort: Mapped[str] = mapped_column(String(7), primary_key=True)
    k: Mapped[int] = mapped_column(Integer, primary_key=True)
    members: Mapped[int] = mapped_column(Integer)
    cohort_size: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())
