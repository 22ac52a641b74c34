"""Queries over merges and review cases, for reports and the command line."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from memberops.identity.models import Identifier, IdentityReview, MemberIdentifier, MergeRecord
from memberops.identity.rules import EXCLUSIVE_KINDS, mask
from memberops.privacy.crypto import KeyRing

__all__ = [
    "count_merges_by_status",
    "count_open_reviews_by_kind",
    "identifier_holders",
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


def were_separated(session: Session, a: str, b: str) -> bool:
    """Whether a merge between the two members was undone (they are known to be apart)."""
    return (
        session.scalar(
            select(MergeRecord.id)
            .where(
                MergeRecord.status == "undone",
                or_(
                    and_(MergeRecord.survivor_id == a, MergeRecord.absorbed_id == b),
                    and_(MergeRecord.survivor_id == b, MergeRecord.absorbed_id == a),
                ),
            )
            .limit(1)
        )
        is not None
    )


def find_members_by_identifier(
    session: Session, keyring: KeyRing, *, kind: str, value: str, include_unverified: bool = False
) -> list[str]:
    """Members holding a normalised identifier: one indexed read on the blind index."""
    stmt = (
        select(MemberIdentifier.member_id)
        .join(Identifier, Identifier.id == MemberIdentifier.identifier_id)
        .where(
            Identifier.blind_index.in_(keyring.blind_indexes(kind, value)),
            MemberIdentifier.status == "active",
        )
    )
    if not include_unverified and kind not in EXCLUSIVE_KINDS:
        stmt = stmt.where(MemberIdentifier.verified.is_(True))
    return list(dict.fromkeys(session.scalars(stmt)))


def identifiers_of(
    session: Session, keyring: KeyRing, member_id: str, *, masked: bool
) -> list[dict[str, Any]]:
    """The member's active identifiers, masked for staff views or in full for exports."""
    rows = session.execute(
        select(
            Identifier.id,
            Identifier.kind,
            Identifier.value_enc,
            MemberIdentifier.verified,
            MemberIdentifier.first_seen_at,
        )
        .join(MemberIdentifier, MemberIdentifier.identifier_id == Identifier.id)
        .where(MemberIdentifier.member_id == member_id, MemberIdentifier.status == "active")
        .order_by(Identifier.kind)
    ).all()
    out = []
    for ident_id, kind, token, verified, first_seen in rows:
        value = keyring.decrypt(token, table="identifiers", column="value_enc", row_id=ident_id)
        out.append(
            {
                "kind": kind,
                "value": mask(kind, value) if masked else value,
                "verified": verified,
                "first_seen_at": first_seen.isoformat(),
            }
        )
    return out


def active_identifier_ids(session: Session, member_id: str) -> set[str]:
    """Ids of the identifiers the member actively holds."""
    return set(
        session.scalars(
            select(MemberIdentifier.identifier_id).where(
                MemberIdentifier.member_id == member_id, MemberIdentifier.status == "active"
            )
        )
    )


def identifier_holders(session: Session, identifier_ids: list[str]) -> dict[str, str]:
    """Who holds each identifier now: identifier id -> member id (active links only).

    An identifier held by several members (a shared, non-exclusive kind) goes to the
    lowest member id, so the answer is the same on every read. Identifiers no member
    holds are absent.
    """
    out: dict[str, str] = {}
    ids = sorted(set(identifier_ids))
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(MemberIdentifier.identifier_id, func.min(MemberIdentifier.member_id))
            .where(
                MemberIdentifier.identifier_id.in_(ids[start : start + 1000]),
                MemberIdentifier.status == "active",
            )
            .group_by(MemberIdentifier.identifier_id)
        ).all()
        out.update({identifier_id: member_id for identifier_id, member_id in rows})
    return out
