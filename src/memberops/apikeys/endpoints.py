"""Admin routes for API keys: create (the secret is in that answer only), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import ConfigDict, Field

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import OpaqueId, ReadSessionDep, SessionDep
from memberops.api.errors import error_responses
from memberops.apikeys.service import (
    API_ROLES,
    create_api_key,
    key_summary,
    list_api_keys,
    revoke_api_key,
)
from memberops.privacy import audit
from memberops.schemas import RequestModel

__all__ = ["router"]

router = APIRouter(prefix="/apikeys", tags=["apikeys"])

AdminDep = Annotated[Actor, Depends(require_roles("admin"))]


class ApiKeyCreate(RequestModel):
    """A new key: who uses it, its role, optional scope and expiry."""

    # Not strict: `expires_at` arrives as an ISO string in JSON.
    model_config = ConfigDict(extra="forbid", strict=False)

    name: str = Field(min_length=1, max_length=80)
    role: str = Field(max_length=16, json_schema_extra={"enum": list(API_ROLES)})
    store_code: str | None = Field(default=None, max_length=32)
    staff_id: str | None = Field(default=None, max_length=64)
    member_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{26}$")
    expires_at: datetime | None = None


@router.get("", responses=error_responses(401, 403, 422))
def get_keys(
    session: ReadSessionDep,
    _actor: AdminDep,
    include_revoked: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Keys with role, scope, state, expiry and last use; never a secret."""
    return list_api_keys(session, include_revoked=include_revoked, limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 422))
def post_key(body: ApiKeyCreate, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    """Create a key; `secret` is in this answer only (stored as its SHA-256)."""
    key, secret = create_api_key(
        session,
        name=body.name,
        role=body.role,
        store_code=body.store_code,
        staff_id=body.staff_id,
        member_id=body.member_id,
        expires_at=body.expires_at,
    )
    audit.record(session, actor, "apikey.create", reason=f"key {key.id} ({key.role})")
    return {**key_summary(key), "secret": secret}


@router.delete("/{key_id}", responses=error_responses(401, 403, 404, 422))
def delete_key(key_id: OpaqueId, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    """Revoke a key (safe to repeat); it stops working at once."""
    summary = revoke_api_key(session, key_id)
    audit.record(session, actor, "apikey.revoke", reason=f"key {key_id}")
    return summary
