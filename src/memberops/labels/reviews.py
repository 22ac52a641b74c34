"""The review queue: notes the guard could not recognise wait for a manager.

A note whose clauses are not all recognisable service needs is neither stored silently
nor thrown away: its label is kept with status "in_review" (text encrypted, shown to no
one but reviewers) and a `LabelReview` carries the guard's reasons. A manager approves
it (the label becomes active) or rejects it (the text is erased), each with a reason,
each audited. Services only flush; the edge commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import utcnow
from memberops.errors import Conflict, Forbidden, NotFound, ValidationError
from memberops.labels.models import Label, LabelEvent, LabelReview
from memberops.privacy import audit

__all__ = [
    "REVIEWER_ROLES",
    "approve_review",
    "list_reviews",
    "open_review",
    "reject_review",
]

# Who decides on held notes: an administrator, or the manager of the store.
REVIEWER_ROLES = ("admin", "manager", "system")
_REASON_CHARS = 200


def _require_reviewer(actor: Actor) -> None:
    if actor.role not in REVIEWER_ROLES:
        raise Forbidden("reviewing held label notes needs the admin or manager role")


def _in_scope(actor: Actor, review: LabelReview) -> bool:
    """A store manager sees the notes of their own store only."""
    return actor.role != "manager" or review.store_code == actor.store_code


def open_review(
    session: Session,
    *,
    label: Label,
    reasons: Sequence[str],
    categories: Sequence[str],
    actor: Actor,
) -> LabelReview:
    """Hold `label` (already flushed, status "in_review") for a manager's decision."""
    review = LabelReview(
        label_id=label.id,
        member_id=label.member_id,
        store_code=label.store_code,
        reasons=[r[:_REASON_CHARS] for r in reasons],
        categories=list(categories),
        status="pending",
        created_at=utcnow(),
        created_by=actor.label[:120],
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor,
        "labels.review.open",
        member_id=label.member_id,
        fields=[label.category],
        reason=f"label {label.id} held for review {review.id}",
    )
    return review


def list_reviews(
    session: Session, *, actor: Actor, status: str | None = "pending", limit: int = 100
) -> list[LabelReview]:
    """Reviews in the actor's scope, oldest first (status None: every status)."""
    _require_reviewer(actor)
    stmt = select(LabelReview).order_by(LabelReview.created_at, LabelReview.id).limit(limit)
    if status is not None:
        stmt = stmt.where(LabelReview.status == status)
    if actor.role == "manager":
        stmt = stmt.where(LabelReview.store_code == actor.store_code)
    return list(session.scalars(stmt))


def _pending_or_raise(session: Session, review_id: str, actor: Actor) -> LabelReview:
    _require_reviewer(actor)
    review = session.get(LabelReview, review_id)
    if review is None or not _in_scope(actor, review):
        raise NotFound(f"label review {review_id} not found")
    if review.status != "pending":
        raise Conflict(f"label review {review_id} is already {review.status}")
    return review


def _decide(
    session: Session, review: LabelReview, *, status: str, reason: str, actor: Actor
) -> Label:
    if not reason.strip():
        raise ValidationError("label_review", "reason", "a decision needs a reason")
    label = session.get(Label, review.label_id)
    if label is None:  # pragma: no cover - foreign key
        raise NotFound(f"label {review.label_id} not found")
    now = utcnow()
    review.status = status
    review.decided_at = now
    review.decided_by = actor.label[:120]
    review.decision_reason = reason[:_REASON_CHARS]
    action = "review_approved" if status == "approved" else "review_rejected"
    session.add(
        LabelEvent(
            label_id=label.id,
            member_id=label.member_id,
            action=action,
            actor=actor.label[:120],
            reason=reason[:_REASON_CHARS],
        )
    )
    audit.record(
        session,
        actor,
        f"labels.review.{'approve' if status == 'approved' else 'reject'}",
        member_id=label.member_id,
        fields=[label.category],
        reason=f"review {review.id} of label {label.id}: {reason[:120]}",
    )
    return label


def approve_review(session: Session, review_id: str, *, reason: str, actor: Actor) -> LabelReview:
    """Approve a held note: its label becomes active. The reason is audited."""
    review = _pending_or_raise(session, review_id, actor)
    label = _decide(session, review, status="approved", reason=reason, actor=actor)
    label.status = "active"
    session.flush()
    return review


def reject_review(session: Session, review_id: str, *, reason: str, actor: Actor) -> LabelReview:
    """Reject a held note: its text is erased and the label is closed as "rejected"."""
    review = _pending_or_raise(session, review_id, actor)
    label = _decide(session, review, status="rejected", reason=reason, actor=actor)
    label.status = "rejected"
    label.text_enc = None
    session.flush()
    return review
