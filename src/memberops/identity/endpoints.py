"""Identity routes: the resolution report and undoing a merge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import OpaqueId, ReadSessionDep, RuntimeDep, SessionDep
from memberops.api.errors import error_responses
from memberops.identity.merges import unmerge
from memberops.identity.report import identity_report
from memberops.identity.schemas import UnmergeRead
from memberops.orders.repository import order_counts

__all__ = ["router"]

router = APIRouter(prefix="/identity", tags=["identity"])


@router.get("/report", response_model=dict[str, Any], responses=error_responses(401, 403))
def get_identity_report(
    session: ReadSessionDep, _actor: Annotated[Actor, Depends(require_roles("admin", "analyst"))]
) -> dict[str, Any]:
    """Members, merges and the review queue, counted."""
    return identity_report(session, order_counts=order_counts(session))


@router.post(
    "/merges/{merge_id}/undo",
    response_model=UnmergeRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
def undo_merge(
    merge_id: OpaqueId,
    session: SessionDep,
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
