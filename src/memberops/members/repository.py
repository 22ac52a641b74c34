"""Queries over members that reports and other capabilities need."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from memberops.members.models import Member, MemberStatus
from memberops.repository import get_one_or_none

__all__ = [
    "active_member_ids",
    "count_members_by_status",
    "get_member_or_none",
    "merge_redirects",
]


def get_member_or_none(session: Session, member_id: str) -> Member | None:
    """The member row itself (merges not followed), or None."""
    return get_one_or_none(session, Member, member_id)


def count_members_by_status(session: Session) -> dict[str, int]:
    """How many members are active, merged away and erased."""
    rows = session.execute(select(Member.status, func.count()).group_by(Member.status))
    return {status: count for status, count in rows.all()}


def merge_redirects(session: Session) -> dict[str, str]:
    """Merged-away member id -> the member it was merged into."""
    rows = session.execute(
        select(Member.id, Member.merged_into_id).where(Member.status == MemberStatus.MERGED)
    )
    return {member_id: into for member_id, into in rows.all() if into is not None}


def active_member_ids(session: Session, member_ids: Iterable[str]) -> set[str]:
    """The ids among `member_ids` whose member is active (not merged away or erased)."""
    ids = sorted(set(member_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        found.update(
            session.scalars(
                select(Member.id).where(
                    Member.id.in_(ids[start : start + 500]), Member.status == MemberStatus.ACTIVE
                )
            )
        )
    return found
