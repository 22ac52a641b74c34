"""The review queue: cases the resolver would not decide, and a reviewer's decision."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import utcnow
from memberops.errors import Conflict, ValidationError
from memberops.identity.merges import merge_by_decision
from memberops.identity.models import IdentityReview
from memberops.identity.rules import review_dedupe_key, review_detail
from memberops.members.models import MemberStatus
from memberops.members.repository import get_member_or_none
from memberops.privacy import audit
from memberops.privacy.crypto import KeyRing
from memberops.repository import get_one

__all__ = ["open_review", "resolve_review"]


def open_review(
    session: Session,
    kind: str,
    member_ids: Sequence[str],
    identifier_id: str | None,
    *,
    detail: str | None = None,
) -> IdentityReview:
    """Open a case, or count one more occurrence of the same open case."""
    members = sorted(set(member_ids))
    dedupe = review_dedupe_key(kind, identifier_id, members)
    existing = session.scalar(select(IdentityReview).where(IdentityReview.dedupe_key == dedupe))
    if existing is not None:
        existing.occurrences += 1
        existing.last_seen_at = utcnow()
        return existing
    review = IdentityReview(
        kind=kind,
        dedupe_key=dedupe,
        member_ids=members,
        identifier_id=identifier_id,
        detail=review_detail(kind, detail),
    )
    session.add(review)
    session.flush()
    return review


def resolve_review(
    session: Session,
    keyring: KeyRing,
    *,
    review_id: str,
    decision: str,
    actor: Actor,
    note: str,
) -> IdentityReview:
    """Close a review case: `merge` its members, or `keep_apart` (nothing changes)."""
    review = get_one(session, IdentityReview, review_id, what="review case")
    if review.status != "open":
        raise Conflict(f"review case {review_id} is already {review.status}")
    if decision not in ("merge", "keep_apart"):
        raise ValidationError("review decision", "decision", "must be merge or keep_apart")
    if decision == "merge":
        live = [
            m.id
            for m in (get_member_or_none(session, i) for i in review.member_ids)
            if m is not None and m.status == MemberStatus.ACTIVE
        ]
        merge_by_decision(session, keyring, member_ids=live, actor=actor, reason=note)
    review.status = "resolved"
    review.resolved_at = utcnow()
    review.resolution = f"{decision}: {note}"[:200]
    session.flush()
    audit.record(
        session,
        actor,
        "identity.review",
        member_id=review.member_ids[0] if review.member_ids else None,
        reason=f"case {review.id}: {decision}",
    )
    return review
