"""Label routes: staff write (screened), member transparency (see, dispute, delete).

The request owns the transaction (`SessionDep` commits once after the endpoint returns).
Errors are transport-neutral: a rejected note is a `ValidationError` (422) carrying the
verdict, reasons and categories; a sensitive need without consent is a `Conflict` (409)
naming the consent purpose; another member's labels are `NotFound` (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from memberops.actor import Actor
from memberops.api.auth import deny, require_roles
from memberops.api.deps import OpaqueId, RuntimeDep, SessionDep
from memberops.api.errors import error_responses
from memberops.db import transaction
from memberops.errors import ConsentRequired, LabelRejected, NotFound
from memberops.labels import reviews, service
from memberops.labels.models import Label, LabelReview
from memberops.labels.schemas import DisputeIn, LabelCreate, LabelRead, LabelWritten
from memberops.privacy import audit
from memberops.runtime import Runtime

__all__ = ["reviews_router", "router"]

router = APIRouter(prefix="/members", tags=["labels"])

ReaderDep = Annotated[Actor, Depends(require_roles("admin", "staff", "marketer", "member"))]
WriterDep = Annotated[Actor, Depends(require_roles("admin", "staff", "pos", "member"))]
OwnerDep = Annotated[Actor, Depends(require_roles("admin", "member"))]


def _written(label: Label) -> LabelWritten:
    return LabelWritten(
        id=label.id,
        member_id=label.member_id,
        category=label.category,
        source=label.source,
        status=label.status,
        sensitive=label.sensitive,
        sensitive_categories=list(label.sensitive_categories or []),
        consent_id=label.consent_id,
    )


def _own_scope(runtime: Runtime, actor: Actor, member_id: str) -> None:
    """A member key acts on its own member only; others look like absent members."""
    if actor.role == "member" and actor.member_id != member_id:
        deny(runtime, actor, what=f"labels of another member ({member_id})", member_id=member_id)
        raise NotFound(f"member {member_id} not found")


def _audit_refused(
    runtime: Runtime,
    actor: Actor,
    member_id: str,
    category: str,
    error: LabelRejected | ConsentRequired,
) -> None:
    """Keep a trace of refused writes (own transaction, survives the request's rollback):
    repeated attempts to record looks are a training matter for the store."""
    if isinstance(error, LabelRejected):
        why = f"guard: {error.verdict} ({', '.join(error.categories) or error.field})"
    else:
        why = f"consent required ({', '.join(error.categories)})"
    with transaction(runtime.sessions) as session:
        audit.record(
            session,
            actor,
            "labels.write",
            member_id=member_id,
            fields=[category[:32]],
            reason=why,
            outcome="refused",
        )


@router.get("/{member_id}/labels", responses=error_responses(401, 403, 404, 422))
def get_labels(
    member_id: OpaqueId,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ReaderDep,
    include_inactive: bool = False,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many labels")] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="labels to skip")] = 0,
) -> list[LabelRead]:
    """A member's labels with source and provenance, filtered by the caller's role
    (sensitive needs only for admin, staff and the member, while consent holds;
    POS keys read no labels; reads are audited)."""
    _own_scope(runtime, actor, member_id)
    labels = service.list_labels(
        session, runtime.keyring, member_id, actor=actor, include_inactive=include_inactive
    )
    return [LabelRead.model_validate(item) for item in labels[offset : offset + limit]]


@router.post(
    "/{member_id}/labels",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409, 422),
)
def post_label(
    member_id: OpaqueId,
    body: LabelCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: WriterDep,
) -> LabelWritten:
    """Record a label: staff notes and member declarations both pass the guard."""
    _own_scope(runtime, actor, member_id)
    try:
        if actor.role == "member":
            label = service.write_member_label(
                session,
                runtime.keyring,
                member_id=member_id,
                category=body.category,
                text=body.text,
                reason=body.reason,
                actor=actor,
                valid_until=body.valid_until,
            )
        else:
            label = service.write_staff_label(
                session,
                runtime.keyring,
                member_id=member_id,
                category=body.category,
                text=body.text,
                reason=body.reason or "",
                actor=actor,
                valid_until=body.valid_until,
            )
    except (LabelRejected, ConsentRequired) as error:
        # Release the request's transaction first: on SQLite it holds the write lock,
        # and the refusal is recorded in a transaction of its own.
        session.rollback()
        _audit_refused(runtime, actor, member_id, body.category, error)
        raise
    return _written(label)


@router.post(
    "/{member_id}/labels/{label_id}/dispute", responses=error_responses(401, 403, 404, 409, 422)
)
def post_dispute(
    member_id: OpaqueId,
    label_id: OpaqueId,
    body: DisputeIn,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: OwnerDep,
) -> LabelWritten:
    """The member contests a label; it is flagged disputed for review."""
    _own_scope(runtime, actor, member_id)
    label = service.dispute_label(
        session, member_id=member_id, label_id=label_id, reason=body.reason, actor=actor
    )
    return _written(label)


@router.delete("/{member_id}/labels/{label_id}", responses=error_responses(401, 403, 404, 422))
def delete_label(
    member_id: OpaqueId,
    label_id: OpaqueId,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: OwnerDep,
) -> LabelWritten:
    """Delete a label at the member's request: its text is destroyed, the deletion audited."""
    _own_scope(runtime, actor, member_id)
    label = service.delete_label(session, member_id=member_id, label_id=label_id, actor=actor)
    return _written(label)


# ---------------------------------------------------------------- the review queue
reviews_router = APIRouter(prefix="/label-reviews", tags=["labels"])

ReviewerDep = Annotated[Actor, Depends(require_roles("admin", "manager"))]


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


@reviews_router.get("", responses=error_responses(401, 403))
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


@reviews_router.post("/{review_id}/approve", responses=error_responses(401, 403, 404, 409, 422))
def post_approve(
    review_id: str, body: DecisionIn, session: SessionDep, actor: ReviewerDep
) -> ReviewRead:
    """Approve a held note: the label becomes active."""
    return _read(reviews.approve_review(session, review_id, reason=body.reason, actor=actor), None)


@reviews_router.post("/{review_id}/reject", responses=error_responses(401, 403, 404, 409, 422))
def post_reject(
    review_id: str, body: DecisionIn, session: SessionDep, actor: ReviewerDep
) -> ReviewRead:
    """Reject a held note: its text is erased."""
    return _read(reviews.reject_review(session, review_id, reason=body.reason, actor=actor), None)
