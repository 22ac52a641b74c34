"""Reads and writes of the lifecycle serving tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from memberops.db import bulk_insert
from memberops.lifecycle.models import LifecycleCohort, LifecycleFlow, LifecycleState

__all__ = ["cohorts", "current_counts", "flows", "latest_month", "member_states", "replace_all"]


_PG_RUN_LOCK = 774_200_103


def replace_all(
    session: Session,
    states: list[dict[str, Any]],
    flow_rows: list[dict[str, Any]],
    cohort_rows: list[dict[str, Any]],
) -> None:
    """Every lifecycle table replaced by one run's rows."""
    if session.get_bind().dialect.name == "postgresql":
        # Two runs at once would each delete, then both insert the same keys: one at a time.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_RUN_LOCK})
    for model in (LifecycleState, LifecycleFlow, LifecycleCohort):
        session.execute(delete(model))
    bulk_insert(session, LifecycleState, states)
    bulk_insert(session, LifecycleFlow, flow_rows)
    bulk_insert(session, LifecycleCohort, cohort_rows)


def latest_month(session: Session) -> tuple[str, Any] | None:
    """(month, as_of) of the latest stored month; None before any run."""
    row = session.execute(
        select(func.max(LifecycleState.month), func.max(LifecycleState.as_of))
    ).one()
    return None if row[0] is None else (row[0], row[1])


def current_counts(session: Session, month: str) -> dict[str, int]:
    """State -> members in `month`."""
    stmt = (
        select(LifecycleState.state, func.count())
        .where(LifecycleState.month == month)
        .group_by(LifecycleState.state)
    )
    return {s: int(n) for s, n in session.execute(stmt)}


def flows(session: Session, *, since: str | None = None) -> list[LifecycleFlow]:
    """Every stored flow (from `since`, 'YYYY-MM', when given), by month."""
    stmt = select(LifecycleFlow).order_by(
        LifecycleFlow.month, LifecycleFlow.from_state, LifecycleFlow.to_state
    )
    if since is not None:
        stmt = stmt.where(LifecycleFlow.month >= since)
    return list(session.scalars(stmt))


def cohorts(session: Session) -> list[LifecycleCohort]:
    """Every stored cohort cell, by cohort and k."""
    return list(
        session.scalars(select(LifecycleCohort).order_by(LifecycleCohort.cohort, LifecycleCohort.k))
    )


def member_states(session: Session, member_id: str) -> list[tuple[str, str]]:
    """(month, state) of one member, oldest first."""
    stmt = (
        select(LifecycleState.month, LifecycleState.state)
        .where(LifecycleState.member_id == member_id)
        .order_by(LifecycleState.month)
    )
    return [(m, s) for m, s in session.execute(stmt)]
