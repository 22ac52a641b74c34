"""Health, identity and audit routes, and the request session every endpoint shares.

Endpoints translate HTTP to service calls and back; the session dependency owns the
transaction and commits once after the endpoint returns.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from memberops.actor import Actor
from memberops.api.deps import ReadSessionDep, RuntimeDep, SessionDep, require_roles
from memberops.api.errors import error_body, error_responses
from memberops.api.schemas import AuditVerificationRead, HealthRead, UnmergeRead
from memberops.identity.report import identity_report
from memberops.identity.service import unmerge
from memberops.privacy.audit import verify_chain

__all__ = ["DbSession", "OpaqueId", "audit_router", "health_router", "identity_router"]

DbSession = SessionDep  # one request, one transaction, committed before the response

# Ids are opaque hex (memberops.db.new_id). Refusing anything else before it reaches a
# service keeps a phone number typed into the URL out of error messages and the audit log.
OpaqueId = Annotated[str, Path(pattern=r"^[0-9a-f]{26}$", description="opaque id")]

health_router = APIRouter(tags=["health"])
identity_router = APIRouter(prefix="/identity", tags=["identity"])
audit_router = APIRouter(prefix="/audit", tags=["audit"])


@health_router.get("/health", response_model=HealthRead)
def health(runtime: RuntimeDep) -> HealthRead | JSONResponse:
    """Liveness and database reachability (no key needed)."""
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse(
            error_body("unavailable", "the database is not reachable"), status_code=503
        )
    return HealthRead(status="ok", database="ok")


@identity_router.get("/report", response_model=dict[str, Any], responses=error_responses(401, 403))
def get_identity_report(
    session: ReadSessionDep, _actor: Annotated[Actor, Depends(require_roles("admin", "analyst"))]
) -> dict[str, Any]:
    """Members, merges and the review queue, counted."""
    return identity_report(session)


@identity_router.post(
    "/merges/{merge_id}/undo",
    response_model=UnmergeRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
def undo_merge(
    merge_id: OpaqueId,
    session: DbSession,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin"))],
) -> UnmergeRead:
    """Undo a merge: both members, their identifiers and their history come back."""
    record = unmerge(session, runtime.keyring, merge_id=merge_id, actor=actor)
    return UnmergeRead(
        merge_id=record.id,
        status=record.status,
        survivor_id=record.survivor_id,
        absorbed_id=record.absorbed_id,
        undone_at=record.undone_at.isoformat() if record.undone_at else None,
    )


@audit_router.get(
    "/verify", response_model=AuditVerificationRead, responses=error_responses(401, 403)
)
def verify_audit_chain(
    session: ReadSessionDep, _actor: Annotated[Actor, Depends(require_roles("admin"))]
) -> AuditVerificationRead:
    """Recompute every audit hash; `ok` is false if any entry was changed or removed."""
    result = verify_chain(session)
    return AuditVerificationRead(ok=result.ok, checked=result.checked, problems=result.problems)
