"""Reads and writes of the concentration serving tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from memberops.concentration.models import ConcentrationMember, ConcentrationSummary
from memberops.db import bulk_insert

__all__ = ["replace_all", "summaries", "summary", "top_members", "top_revenue"]


_PG_RUN_LOCK = 774_200_102


def replace_all(
    session: Session, summary_rows: list[dict[str, Any]], member_rows: list[dict[str, Any]]
) -> None:
    """Every stored scope replaced by a fresh run."""
    if session.get_bind().dialect.name == "postgresql":
        # Two runs at once would each delete, then both insert the same keys: one at a time.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_RUN_LOCK})
    session.execute(delete(ConcentrationMember))
    session.execute(delete(ConcentrationSummary))
    bulk_insert(session, ConcentrationSummary, summary_rows)
    bulk_insert(session, ConcentrationMember, member_rows)


def summary(session: Session, scope: str) -> ConcentrationSummary | None:
    """The stored summary of `scope` (None when never run or no member spent there)."""
    return session.get(ConcentrationSummary, scope)


def summaries(session: Session) -> list[ConcentrationSummary]:
    """Every stored scope."""
    return list(session.scalars(select(ConcentrationSummary)))


def top_members(
    session: Session, scope: str, *, max_rank: int, limit: int, offset: int
) -> list[tuple[str, int, int]]:
    """(member_id, spend_cents, rank) with rank <= `max_rank`, best first, one page."""
    stmt = (
        select(
            ConcentrationMember.member_id,
            ConcentrationMember.spend_cents,
            ConcentrationMember.rank,
        )
        .where(ConcentrationMember.scope == scope, ConcentrationMember.rank <= max_rank)
        .order_by(ConcentrationMember.rank)
        .limit(limit)
        .offset(offset)
    )
    return [(m, int(s), int(r)) for m, s, r in session.execute(stmt)]


def top_revenue(session: Session, scope: str, *, max_rank: int) -> int:
    """Net spend of the members ranked 1..`max_rank` in `scope`."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(ConcentrationMember.spend_cents), 0)).where(
                ConcentrationMember.scope == scope, ConcentrationMember.rank <= max_rank
            )
        )
        or 0
    )
