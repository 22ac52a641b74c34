"""`GET /v1/health`: liveness and database reachability, the one route without a key."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from memberops.api.deps import RuntimeDep
from memberops.api.errors import error_body

__all__ = ["HealthRead", "router"]

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=HealthRead)
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
