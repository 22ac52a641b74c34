"""GET /v1/rfm (grid and segment summary) and GET /v1/members/{id}/rfm.

/v1/rfm returns aggregates only: admins, marketers and analysts read any scope, a
manager their own store. A member's scores go to admins (with the member id) and to
marketers and analysts (with the pseudonymous id only).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from memberops.actor import Actor
from memberops.api.auth import deny, require_roles
from memberops.api.deps import OpaqueId, ReadSessionDep, RuntimeDep
from memberops.api.errors import error_responses
from memberops.db import transaction
from memberops.errors import Forbidden
from memberops.members.service import get_member_or_raise
from memberops.privacy import audit
from memberops.privacy.pseudonyms import pseudonymous_id
from memberops.rfm.schemas import MemberRfmRead, RfmRead, RfmScopeScore
from memberops.rfm.service import member_rfm, read_rfm
from memberops.runtime import Runtime

__all__ = ["member_router", "router", "store_scope"]

router = APIRouter(tags=["analytics"])
member_router = APIRouter(prefix="/members", tags=["analytics"])

AggregateReader = Annotated[
    Actor, Depends(require_roles("admin", "manager", "marketer", "analyst"))
]
MemberReader = Annotated[Actor, Depends(require_roles("admin", "marketer", "analyst"))]
StoreQuery = Annotated[
    str | None, Query(max_length=32, description="store code; the chain when absent")
]


def store_scope(runtime: Runtime, actor: Actor, store: str | None) -> str | None:
    """The store a caller may read: a manager always reads their own store."""
    if actor.role != "manager":
        return store
    if not actor.store_code or (store is not None and store != actor.store_code):
        deny(runtime, actor, what="manager reads analytics of their own store only")
        raise Forbidden("a manager reads analytics of their own store only")
    return actor.store_code


@router.get(
    "/rfm",
    response_model=RfmRead,
    responses=error_responses(401, 403, 404, 422),
    description="Segment counts and spend and the R x F grid of the latest RFM run.",
)
def get_rfm(
    actor: AggregateReader, session: ReadSessionDep, runtime: RuntimeDep, store: StoreQuery = None
) -> RfmRead:
    scope = store_scope(runtime, actor, store)
    return RfmRead.model_validate(read_rfm(session, store_code=scope))


@member_router.get(
    "/{member_id}/rfm",
    response_model=MemberRfmRead,
    responses=error_responses(401, 403, 404, 422),
    description="One member's RFM scores in every scope that was run.",
)
def get_member_rfm(
    member_id: OpaqueId, actor: MemberReader, session: ReadSessionDep, runtime: RuntimeDep
) -> MemberRfmRead:
    current = get_member_or_raise(session, member_id).id
    scores = [RfmScopeScore.model_validate(s) for s in member_rfm(session, current)]
    shown = current if actor.role == "admin" else pseudonymous_id(runtime.keyring, current)
    # A member-level read is audited like a profile read, in a short write of its own
    # after the read's connection went back to the pool.
    session.rollback()
    with transaction(runtime.sessions) as writer:
        audit.record(writer, actor, "member.rfm", member_id=current, fields=["rfm"])
    return MemberRfmRead(member=shown, scores=scores)
