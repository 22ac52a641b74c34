"""Admin routes that load a chain's stores and catalog (the API twin of
`memberops import stores` and `memberops import catalog`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import RuntimeDep
from memberops.api.errors import error_responses
from memberops.catalog.schemas import ItemsRequest, MasterImportRead, StoresRequest
from memberops.catalog.service import import_items, import_stores
from memberops.db import run_in_transaction

__all__ = ["router"]

router = APIRouter(tags=["catalog"])

_RESPONSES = error_responses(400, 401, 403, 413, 422, 429, 503)


@router.post("/stores", response_model=MasterImportRead, responses=_RESPONSES)
def post_stores(
    body: StoresRequest,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, Depends(require_roles("admin"))],
) -> MasterImportRead:
    """Create or update stores by code, all or nothing; sending the same again changes
    nothing."""
    records = [
        (f"request index {n}", store.model_dump(exclude_none=True))
        for n, store in enumerate(body.stores)
    ]

    def store(session: Session) -> MasterImportRead:
        return MasterImportRead(**import_stores(session, records).to_dict())

    return run_in_transaction(runtime.sessions, store)


@router.post("/catalog/items", response_model=MasterImportRead, responses=_RESPONSES)
def post_catalog_items(
    body: ItemsRequest,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, Depends(require_roles("admin"))],
) -> MasterImportRead:
    """Create or update catalog items by SKU, all or nothing; sending the same again
    changes nothing."""
    records = [
        (f"request index {n}", item.model_dump(exclude_none=True))
        for n, item in enumerate(body.items)
    ]

    def store(session: Session) -> MasterImportRead:
        return MasterImportRead(**import_items(session, records).to_dict())

    return run_in_transaction(runtime.sessions, store)
