"""Points adjustments with a second person's approval above a configurable amount.

A manual adjustment of at most `threshold` points (either sign) posts at once through
`loyalty.service.adjust_points`. A larger one waits as a pending request until another
person approves it; the requester can never approve (or reject) their own. Approving
posts the adjustment in the same transaction as the decision, so a request is either
pending, or approved with its ledger entry, or rejected: never approved without points.
Every step is audited. Services never commit: the edge owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from memberops.actor import Actor
from memberops.catalog.models import Store
from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow
from memberops.errors import Conflict, Forbidden, NotFound, ValidationError
from memberops.loyalty.service import adjust_points
from memberops.members.models import Member
from memberops.members.service import get_member_or_raise
from memberops.orders.repository import has_visited_store
from memberops.privacy import audit

__all__ = [
    "APPROVER_ROLES",
    "DEFAULT_THRESHOLD",
    "MAX_POINTS",
    "REQUESTER_ROLES",
    "AdjustmentOutcome",
    "AdjustmentRequest",
    "approve_adjustment",
    "export_member_adjustments",
    "list_adjustments",
    "reject_adjustment",
    "request_adjustment",
]

# Who may ask for an adjustment, and who may decide one (never the person who asked).
REQUESTER_ROLES = ("admin", "manager")
APPROVER_ROLES = ("admin",)
# Adjustments above this many points (either sign) wait for a second person by default;
# deployments set their own (MEMBEROPS_ADJUSTMENT_APPROVAL_POINTS for the console).
DEFAULT_THRESHOLD = 500
# One adjustment never moves more than this (a typo guard: 10 million fen of vouchers).
MAX_POINTS = 10_000_000
_REASON_CHARS = 200


class AdjustmentRequest(Base):
    """A requested manual points adjustment and what became of it."""

    __tablename__ = "loyalty_adjustment_requests"
    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(_REASON_CHARS))
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_by_id: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    threshold: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_note: Mapped[str | None] = mapped_column(String(_REASON_CHARS))
    entry_id: Mapped[str | None] = mapped_column(IdString())


@dataclass(frozen=True)
class AdjustmentOutcome:
    """What a request did: posted at once (with its ledger entry) or waiting."""

    request: AdjustmentRequest
    posted: bool


def _person(actor: Actor) -> str:
    """One person, whichever way they signed in (key id or staff account id)."""
    return f"{actor.kind}:{actor.id}"


def _check_role(actor: Actor, roles: tuple[str, ...], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"{what} needs one of the roles: {', '.join(roles)}")


def _post(session: Session, request: AdjustmentRequest, actor: Actor) -> None:
    entry = adjust_points(
        session,
        member_id=request.member_id,
        points=request.points,
        reason=request.reason,
        adjustment_id=f"request-{request.id}",
        actor=actor,
    )
    request.entry_id = entry.id


def request_adjustment(
    session: Session,
    *,
    member_id: str,
    points: int,
    reason: str,
    actor: Actor,
    threshold: int = DEFAULT_THRESHOLD,
) -> AdjustmentOutcome:
    """Ask for an adjustment: at most `threshold` points posts now, more waits for a
    second person. A manager adjusts members of their own store only (home or visited)."""
    _check_role(actor, REQUESTER_ROLES, "a points adjustment")
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("adjustment", "reason", "is required")
    if len(reason) > _REASON_CHARS:
        raise ValidationError("adjustment", "reason", f"is longer than {_REASON_CHARS} characters")
    if points == 0 or abs(points) > MAX_POINTS:
        raise ValidationError("adjustment", "points", f"must be non-zero and at most {MAX_POINTS}")
    if threshold < 0:
        raise ValidationError("adjustment", "threshold", "must not be negative")
    member = get_member_or_raise(session, member_id)
    if actor.role == "manager" and actor.store_code:
        _check_manager_store(session, member, actor)
    request = AdjustmentRequest(
        member_id=member.id,
        points=points,
        reason=reason,
        status="pending",
        requested_by=actor.label,
        requested_by_id=_person(actor),
        requested_at=utcnow(),
        threshold=threshold,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "loyalty.adjust_request",
        member_id=member.id,
        fields=["points"],
        reason=f"request {request.id}: {points:+d} points; {reason}"[:200],
    )
    posted = abs(points) <= threshold
    if posted:
        # Small enough for one person: the request records who and why, and posts now.
        request.status = "approved"
        request.decided_by = actor.label
        request.decided_at = utcnow()
        request.decision_note = f"at most {threshold} points: no second approval needed"
        _post(session, request, actor)
    session.flush()
    return AdjustmentOutcome(request, posted)


def _check_manager_store(session: Session, member: Member, actor: Actor) -> None:
    """A manager adjusts members of their store: home store there, or a visit there."""
    store_id = session.scalar(select(Store.id).where(Store.code == actor.store_code))
    if store_id is None or not (
        member.home_store_id == store_id or has_visited_store(session, member.id, store_id)
    ):
        raise Forbidden(f"a manager adjusts members of store {actor.store_code} only")


def _pending(session: Session, request_id: str, actor: Actor, what: str) -> AdjustmentRequest:
    _check_role(actor, APPROVER_ROLES, what)
    request = session.scalar(
        select(AdjustmentRequest).where(AdjustmentRequest.id == request_id).with_for_update()
    )
    if request is None:
        raise NotFound(f"adjustment request {request_id} not found")
    if request.status != "pending":
        raise Conflict(f"adjustment request {request_id} is already {request.status}")
    if request.requested_by_id == _person(actor):
        audit.record(
            session,
            actor,
            "loyalty.adjust_approve",
            member_id=request.member_id,
            reason=f"request {request.id}: the requester cannot decide their own request",
            outcome="denied",
        )
        raise Forbidden("the person who asked for an adjustment cannot approve or reject it")
    return request


def approve_adjustment(
    session: Session, *, request_id: str, actor: Actor, note: str = ""
) -> AdjustmentRequest:
    """A second person approves: the adjustment posts in this same transaction."""
    request = _pending(session, request_id, actor, "approving an adjustment")
    request.status = "approved"
    request.decided_by = actor.label
    request.decided_at = utcnow()
    request.decision_note = " ".join(note.split())[:_REASON_CHARS] or None
    _post(session, request, actor)
    audit.record(
        session,
        actor,
        "loyalty.adjust_approve",
        member_id=request.member_id,
        fields=["points"],
        reason=f"request {request.id} approved: {request.points:+d} points",
    )
    session.flush()
    return request


def reject_adjustment(
    session: Session, *, request_id: str, actor: Actor, note: str = ""
) -> AdjustmentRequest:
    """A second person rejects: nothing posts."""
    request = _pending(session, request_id, actor, "rejecting an adjustment")
    request.status = "rejected"
    request.decided_by = actor.label
    request.decided_at = utcnow()
    request.decision_note = " ".join(note.split())[:_REASON_CHARS] or None
    audit.record(
        session,
        actor,
        "loyalty.adjust_reject",
        member_id=request.member_id,
        reason=f"request {request.id} rejected",
    )
    session.flush()
    return request


def list_adjustments(
    session: Session, *, actor: Actor, status: str | None = "pending", limit: int = 100
) -> tuple[list[AdjustmentRequest], int]:
    """Requests, newest first (a manager sees the ones they asked for), and how many."""
    _check_role(actor, (*REQUESTER_ROLES, *APPROVER_ROLES), "adjustment requests")
    query = select(AdjustmentRequest)
    if status:
        query = query.where(AdjustmentRequest.status == status)
    if actor.role != "admin":
        query = query.where(AdjustmentRequest.requested_by_id == _person(actor))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(
        query.order_by(AdjustmentRequest.requested_at.desc(), AdjustmentRequest.id.desc()).limit(
            limit
        )
    ).all()
    return list(rows), total


def export_member_adjustments(session: Session, member_id: str) -> list[dict[str, object]]:
    """Every adjustment request about the member, for a data-subject export.

    Erasure keeps them under the member's opaque id, like the ledger they explain.
    """
    rows = session.scalars(
        select(AdjustmentRequest)
        .where(AdjustmentRequest.member_id == member_id)
        .order_by(AdjustmentRequest.requested_at, AdjustmentRequest.id)
    )
    return [
        {
            "id": r.id,
            "points": r.points,
            "reason": r.reason,
            "status": r.status,
            "requested_at": r.requested_at.isoformat(),
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "entry_id": r.entry_id,
        }
        for r in rows
    ]
