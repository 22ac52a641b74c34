"""Privacy routes: a member's export, erasure and consents, and the audit chain check.

The member routes live under `/members/{id}` beside the profile; the same self-only rule
applies: a member key acting on another member gets the 404 of an absent member, audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.api.auth import deny_other_member, require_roles
from memberops.api.deps import OpaqueId, ReadSessionDep, RuntimeDep, SessionDep
from memberops.api.errors import error_responses
from memberops.errors import NotFound, ValidationError
from memberops.members.models import MemberStatus
from memberops.members.service import get_member_or_raise
from memberops.privacy.audit import verify_chain
from memberops.privacy.consent import current_consents, record_consent
from memberops.privacy.rights import erase_member, export_member
from memberops.privacy.schemas import (
    AuditVerificationRead,
    ConsentIn,
    ConsentsRead,
    ErasureIn,
    ErasureRead,
)

__all__ = ["audit_router", "router"]

router = APIRouter(prefix="/members", tags=["members"])
audit_router = APIRouter(prefix="/audit", tags=["audit"])

_READ = error_responses(401, 403, 404, 422)


def _visible_member_id(session: Session, member_id: str) -> str:
    """The member's current id (merges followed); erased members are not found."""
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        raise NotFound(f"member {member_id} not found")
    return member.id


@router.get("/{member_id}/export", response_model=dict[str, Any], responses=_READ)
def export(
    member_id: OpaqueId,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "member"))],
) -> dict[str, Any]:
    """Everything held about the member (PIPL Art. 45, GDPR Art. 15 and 20), audited."""
    deny_other_member(runtime, actor, member_id, "export")
    return export_member(session, runtime.keyring, member_id, actor=actor)


@router.delete("/{member_id}", response_model=ErasureRead, responses=_READ)
def erase(
    member_id: OpaqueId,
    erasure: ErasureIn,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "member"))],
) -> ErasureRead:
    """Erase the member's personal data (PIPL Art. 47, GDPR Art. 17); safe to repeat."""
    deny_other_member(runtime, actor, member_id, "erasure")
    erased = erase_member(session, member_id, actor=actor, reason=erasure.reason)
    return ErasureRead(erased=erased, already_erased=not erased)


@router.get("/{member_id}/consents", response_model=ConsentsRead, responses=_READ)
def get_consents(
    member_id: OpaqueId,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "staff", "member"))],
) -> ConsentsRead:
    """The current decision for every purpose (no decision reads as not granted)."""
    deny_other_member(runtime, actor, member_id, "consent read")
    current_id = _visible_member_id(session, member_id)
    return ConsentsRead(member_id=current_id, consents=current_consents(session, current_id))


@router.post("/{member_id}/consents", response_model=ConsentsRead, responses=_READ)
def post_consent(
    member_id: OpaqueId,
    consent: ConsentIn,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "member"))],
) -> ConsentsRead:
    """Give or withdraw consent for one purpose; answers with the state afterwards.

    Consent comes from the member (their own key, with the channel and notice version
    they saw) or from an admin acting on the member's documented request, with a reason.
    Staff and till keys cannot record it."""
    deny_other_member(runtime, actor, member_id, "consent change")
    if actor.role == "admin" and not consent.reason:
        raise ValidationError("consent", "reason", "is required when an admin records consent")
    current_id = _visible_member_id(session, member_id)
    record_consent(
        session,
        member_id=current_id,
        purpose=consent.purpose,
        granted=consent.granted,
        channel=consent.channel,
        source="api",
        notice_version=consent.notice_version,
        actor=actor,
        reason=consent.reason,
    )
    return ConsentsRead(member_id=current_id, consents=current_consents(session, current_id))


@audit_router.get(
    "/verify", response_model=AuditVerificationRead, responses=error_responses(401, 403)
)
def verify_audit_chain(
    session: ReadSessionDep, _actor: Annotated[Actor, Depends(require_roles("admin"))]
) -> AuditVerificationRead:
    """Recompute every audit hash; `ok` is false if any entry was changed or removed."""
    result = verify_chain(session)
    return AuditVerificationRead(ok=result.ok, checked=result.checked, problems=result.problems)
