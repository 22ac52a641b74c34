"""Review-queue routes: list held notes, approve or reject each with a reason.

Mounted under /v1 (ROUTERS). Reviewers are admins and store managers (a store manager
sees the notes of their own store). The held note's text is shown to the reviewer, who
must read it to decide; every decision is audited with its reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from memberops.actor import Actor
from memberops.api.deps import RuntimeDep, SessionDep, require_roles
from memberops.api.errors import error_responses
from memberops.labels import reviews
from memberops.labels.models import Label, LabelReview
from memberops.privacy import audit

__all__ = ["router"]

router = APIRouter(prefix="/label-reviews", tags=["labels"])

ReviewerDep = Annotated[Actor, Depends(require_roles("admin", "store_manager"))]


class ReviewRead(BaseModel):
    """A held note and what the guard said about it."""

    id: str
    label_id: str
    member_id: str
    store_code: str | None
    status: str
    reasons: list[str]
    categories: list[str]
    text: str | None
    created_at: datetime
    created_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


class DecisionIn(BaseModel):
    """The reviewer's reason, kept with the decision and in the audit log."""

    reason: str = Field(min_length=1, max_length=200)


def _read(review: LabelReview, text: str | None) -> ReviewRead:
    return ReviewRead(
        id=review.id,
        label_id=review.label_id,
        member_id=review.member_id,
        store_code=review.store_code,
        status=review.status,
        reasons=list(review.reasons or []),
        categories=list(review.categories or []),
        text=text,
        created_at=review.created_at,
        created_by=review.created_by,
        decided_at=review.decided_at,
        decided_by=review.decided_by,
        decision_reason=review.decision_reason,
    )


@router.get("", responses=error_responses(401, 403))
def get_reviews(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ReviewerDep,
    status: str | None = "pending",
) -> list[ReviewRead]:
    """Held notes in the reviewer's scope, oldest first; the texts are audited as read."""
    out: list[ReviewRead] = []
    for review in reviews.list_reviews(session, actor=actor, status=status):
        label = session.get(Label, review.label_id)
        text = None
        if label is not None and label.text_enc and review.status == "pending":
            text = runtime.keyring.decrypt(
                label.text_enc, row_id=label.id, table="labels", column="text_enc"
            )
            audit.record(
                session,
                actor,
                "labels.review.read",
                member_id=review.member_id,
                fields=[label.category],
                reason=f"review {review.id}",
            )
        out.append(_read(review, text))
    return out


@router.post("/{review_id}/approve", responses=error_responses(401, 403, 404, 409, 422))
def post_approve(
    review_id: str, body: DecisionIn, session: SessionDep, actor: ReviewerDep
) -> ReviewRead:
    """Approve a held note: the label becomes active."""
    return _read(reviews.approve_review(session, review_id, reason=body.reason, actor=actor), None)


@router.post("/{review_id}/reject", responses=error_responses(401, 403, 404, 409, 422))
def post_reject(
    review_id: str, body: DecisionIn, session: SessionDep, actor: ReviewerDep
) -> ReviewRead:
    """Reject a held note: its text is erased."""
    return _read(reviews.reject_review(session, review_id, reason=body.reason, actor=actor), None)
