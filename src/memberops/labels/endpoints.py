"""Label routes: staff write (screened), member transparency (see, dispute, delete).

The request owns the transaction (`SessionDep` commits once after the endpoint returns).
Errors are transport-neutral: a rejected note is a `ValidationError` (422) carrying the
verdict, reasons and categories; a sensitive need without consent is a `Conflict` (409)
naming the consent purpose; another member's labels are `NotFound` (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from memberops.actor import Actor
from memberops.api.deps import RuntimeDep, SessionDep, deny, require_roles
from memberops.api.errors import error_responses
from memberops.db import transaction
from memberops.errors import NotFound
from memberops.labels import service
from memberops.labels.models import Label
from memberops.privacy import audit
from memberops.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1/members", tags=["labels"])

ReaderDep = Annotated[Actor, Depends(require_roles("admin", "staff", "pos", "marketer", "member"))]
WriterDep = Annotated[Actor, Depends(require_roles("admin", "staff", "pos", "member"))]
OwnerDep = Annotated[Actor, Depends(require_roles("admin", "member"))]


class LabelCreate(BaseModel):
    """A label typed by staff, or declared by the member about themself."""

    category: str = Field(max_length=32)
    text: str = Field(max_length=service.MAX_TEXT_CHARS)
    reason: str | None = Field(default=None, max_length=200)
    valid_until: datetime | None = None


class DisputeIn(BaseModel):
    """Why the member contests a label."""

    reason: str = Field(min_length=1, max_length=200)


class LabelWritten(BaseModel):
    """What was stored (never the text: the caller has it)."""

    id: str
    member_id: str
    category: str
    source: str
    status: str
    sensitive: bool
    sensitive_categories: list[str]
    consent_id: str | None


class Provenance(BaseModel):
    """Who recorded a label, when, in which store and why (or which rule computed it)."""

    created_by: str
    staff_id: str | None
    store_code: str | None
    created_at: datetime
    reason: str | None
    rule_id: str | None


class LabelRead(BaseModel):
    """A label as the caller may see it; `text` is None for computed or deleted labels."""

    id: str
    member_id: str
    category: str
    code: str | None
    text: str | None
    source: str
    status: str
    sensitive: bool
    sensitive_categories: list[str]
    consent_id: str | None
    valid_from: datetime
    valid_until: datetime | None
    provenance: Provenance


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
    error: service.LabelRejected | service.ConsentRequired,
) -> None:
    """Keep a trace of refused writes (own transaction, survives the request's rollback):
    repeated attempts to record looks are a training matter for the store."""
    if isinstance(error, service.LabelRejected):
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


@router.get("/{member_id}/labels", responses=error_responses(401, 403, 404))
def get_labels(
    member_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ReaderDep,
    include_inactive: bool = False,
) -> list[LabelRead]:
    """A member's labels with source and provenance, filtered by the caller's role
    (sensitive needs only for admin, staff, POS and the member; reads are audited)."""
    _own_scope(runtime, actor, member_id)
    labels = service.list_labels(
        session, runtime.keyring, member_id, actor=actor, include_inactive=include_inactive
    )
    return [LabelRead.model_validate(item) for item in labels]


@router.post(
    "/{member_id}/labels",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409, 422),
)
def post_label(
    member_id: str,
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
    except (service.LabelRejected, service.ConsentRequired) as error:
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
    member_id: str,
    label_id: str,
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


@router.delete("/{member_id}/labels/{label_id}", responses=error_responses(401, 403, 404))
def delete_label(
    member_id: str,
    label_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: OwnerDep,
) -> LabelWritten:
    """Delete a label at the member's request: its text is destroyed, the deletion audited."""
    _own_scope(runtime, actor, member_id)
    label = service.delete_label(session, member_id=member_id, label_id=label_id, actor=actor)
    return _written(label)
