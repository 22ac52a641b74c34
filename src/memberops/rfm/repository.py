"""Reads and writes of `rfm_scores`: replace a scope, aggregate it, read one member."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from memberops.db import bulk_insert
from memberops.rfm.models import RfmScore

__all__ = [
    "grid",
    "member_rows",
    "replace_scope",
    "scope_meta",
    "segment_summary",
]


_PG_RUN_LOCK = 774_200_101


def replace_scope(session: Session, scope: str, rows: list[dict[str, Any]]) -> None:
    """Every row of `scope` replaced by `rows` (one run = one consistent snapshot)."""
    if session.get_bind().dialect.name == "postgresql":
        # Two runs at once would each delete, then both insert the same keys: one at a time.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_RUN_LOCK})
    session.execute(delete(RfmScore).where(RfmScore.scope == scope))
    bulk_insert(session, RfmScore, rows)


def scope_meta(session: Session, scope: str) -> tuple[int, Any, int] | None:
    """(members, as_of, bins) of the stored run of `scope`; None when never run."""
    row = session.execute(
        select(func.count(), func.max(RfmScore.as_of), func.max(RfmScore.bins)).where(
            RfmScore.scope == scope
        )
    ).one()
    if not row[0]:
        return None
    return int(row[0]), row[1], int(row[2])


def segment_summary(session: Session, scope: str) -> list[tuple[str, int, int]]:
    """(segment, members, spend_cents) of `scope`."""
    stmt = (
        select(RfmScore.segment, func.count(), func.coalesce(func.sum(RfmScore.spend_cents), 0))
        .where(RfmScore.scope == scope)
        .group_by(RfmScore.segment)
    )
    return [(s, int(n), int(c)) for s, n, c in session.execute(stmt)]


def grid(session: Session, scope: str) -> list[tuple[int, int, int, int]]:
    """(r, f, members, spend_cents) of every populated R x F cell of `scope`."""
    stmt = (
        select(
            RfmScore.r,
            RfmScore.f,
            func.count(),
            func.coalesce(func.sum(RfmScore.spend_cents), 0),
        )
        .where(RfmScore.scope == scope)
        .group_by(RfmScore.r, RfmScore.f)
    )
    return [(int(r), int(f), int(n), int(c)) for r, f, n, c in session.execute(stmt)]


def member_rows(session: Session, member_id: str) -> list[RfmScore]:
    """Every stored scope of one member, chain first."""
    rows = session.scalars(select(RfmScore).where(RfmScore.member_id == member_id)).all()
    return sorted(rows, key=lambda r: (r.scope != "chain", r.scope))
