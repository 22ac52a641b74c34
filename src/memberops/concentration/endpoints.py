"""GET /v1/concentration (curve, Gini) and GET /v1/concentration/top (the top list).

Admins, marketers and analysts read any scope, a manager their own store. The top list
shows member ids to admins and managers, pseudonymous ids to marketers and analysts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import ReadSessionDep, RuntimeDep
from memberops.api.errors import error_responses
from memberops.concentration.schemas import ConcentrationRead, TopMember, TopRead
from memberops.concentration.service import read_concentration, read_top
from memberops.privacy.pseudonyms import pseudonymous_id
from memberops.rfm.endpoints import store_scope

__all__ = ["router"]

router = APIRouter(prefix="/concentration", tags=["analytics"])

Reader = Annotated[Actor, Depends(require_roles("admin", "manager", "marketer", "analyst"))]
StoreQuery = Annotated[
    str | None, Query(max_length=32, description="store code; the chain when absent")
]


@router.get(
    "",
    response_model=ConcentrationRead,
    responses=error_responses(401, 403, 404, 422),
    description="The 80/20 curve (share of revenue by top x% of members) and the Gini.",
)
def get_concentration(
    actor: Reader, session: ReadSessionDep, runtime: RuntimeDep, store: StoreQuery = None
) -> ConcentrationRead:
    scope = store_scope(runtime, actor, store)
    return ConcentrationRead.model_validate(read_concentration(session, store_code=scope))


@router.get(
    "/top",
    response_model=TopRead,
    responses=error_responses(401, 403, 404, 422),
    description="The top share of members by net spend, one page at a time.",
)
def get_top(
    actor: Reader,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    store: StoreQuery = None,
    share: Annotated[float, Query(gt=0, le=1)] = 0.2,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TopRead:
    scope = store_scope(runtime, actor, store)
    data = read_top(session, store_code=scope, share=share, limit=limit, offset=offset)
    show_ids = actor.role in ("admin", "manager")
    members = [
        TopMember(
            member=m["member_id"] if show_ids else pseudonymous_id(runtime.keyring, m["member_id"]),
            spend_cents=m["spend_cents"],
            rank=m["rank"],
        )
        for m in data.pop("members")
    ]
    return TopRead(**data, members=members)
