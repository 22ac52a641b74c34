"""GET /v1/storemix[?store=CODE]: value segments and lifestyles per store, with advice.

Aggregates only. Admins, marketers and analysts see every store (or the one asked for);
a manager bound to a store sees only that store, and asking for another is refused
(403, audited). Front-desk roles and members may not read it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from memberops import clock
from memberops.actor import Actor
from memberops.api.auth import deny, require_roles
from memberops.api.deps import ReadSessionDep, RuntimeDep
from memberops.api.errors import error_responses
from memberops.errors import Forbidden
from memberops.storemix.service import store_mix

__all__ = ["router"]

router = APIRouter(prefix="/storemix", tags=["analytics"])

Reader = Annotated[Actor, Depends(require_roles("admin", "manager", "marketer", "analyst"))]


class Share(BaseModel):
    """Members in a group and their share of the store's home members."""

    members: int
    share: float


class Advice(BaseModel):
    """The recommendation: a stable code and one line of text."""

    code: str
    text: str


class StoreMix(BaseModel):
    """One store's mix."""

    store_code: str
    members: int
    segments: dict[str, Share]
    traits: dict[str, Share]
    recommendation: Advice


class StoreMixRead(BaseModel):
    """Every store with home members (or the one asked for)."""

    as_of: str
    stores: list[StoreMix]


@router.get(
    "",
    response_model=StoreMixRead,
    responses=error_responses(401, 403, 404, 422),
    description="Per store: members by value segment and lifestyle trait, and one line of advice.",
)
def get_store_mix(
    actor: Reader,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    store: Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")] = None,
) -> StoreMixRead:
    """Per store mix and advice; a store-bound manager sees their own store only."""
    if actor.role == "manager" and actor.store_code:
        if store is not None and store != actor.store_code:
            session.rollback()  # SQLite: release the read before the audit write
            deny(runtime, actor, what=f"store mix of another store than {actor.store_code}")
            raise Forbidden("a manager sees the store mix of their own store only")
        store = actor.store_code
    now = clock.now()
    stores = store_mix(session, as_of=now, store_code=store)
    return StoreMixRead(
        as_of=now.isoformat(),
        stores=[StoreMix(**{k: v for k, v in s.items() if k != "store_id"}) for s in stores],
    )
