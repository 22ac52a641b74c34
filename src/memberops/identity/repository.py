"""Queries over merges and review cases, for reports and the command line."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from memberops.identity.models import IdentityReview, MergeRecord

__all__ = [
    "count_merges_by_status",
    "count_open_reviews_by_kind",
    "list_merges",
    "list_open_reviews",
]


def list_merges(session: Session, *, member_id: str | None, limit: int) -> list[dict[str, Any]]:
    """Recent merges, newest first, optionally only those involving `member_id`."""
    stmt = select(MergeRecord).order_by(MergeRecord.created_at.desc()).limit(limit)
    if member_id:
        stmt = stmt.where(
            or_(MergeRecord.survivor_id == member_id, MergeRecord.absorbed_id == member_id)
        )
    return [
        {
            "id": m.id,
            "survivor": m.survivor_id,
            "absorbed": m.absorbed_id,
            "reason": m.reason,
            "status": m.status,
            "created_at": m.created_at.isoformat(),
            "moved": {k: len(v) for k, v in m.moved.items()},
        }
        for m in session.scalars(stmt)
    ]


def list_open_reviews(session: Session, *, limit: int) -> list[dict[str, Any]]:
    """Open review cases, most recently seen first."""
    stmt = (
        select(IdentityReview)
        .where(IdentityReview.status == "open")
        .order_by(IdentityReview.last_seen_at.desc())
        .limit(limit)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "members": r.member_ids,
            "detail": r.detail,
            "occurrences": r.occurrences,
            "last_seen_at": r.last_seen_at.isoformat(),
        }
        for r in session.scalars(stmt)
    ]


def count_merges_by_status(session: Session) -> dict[str, int]:
    """How many merges are active and how many were undone."""
    rows = session.execute(select(MergeRecord.status, func.count()).group_by(MergeRecord.status))
    return {status: count for status, count in rows.all()}


def count_open_reviews_by_kind(session: Session) -> dict[str, int]:
    """Open review cases, counted by kind."""
    rows = session.execute(
        select(IdentityReview.kind, func.count())
        .where(IdentityReview.status == "open")
        .group_by(IdentityReview.kind)
    )
    return {kind: count for kind, count in rows.all()}
