"""FastAPI dependencies every router shares: the runtime, one transaction per request,
and the path id format.

The request owns the transaction: services flush, the dependency commits once after the
endpoint returns and rolls back if it raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from memberops.db import transaction
from memberops.runtime import Runtime

__all__ = ["OpaqueId", "RuntimeDep", "SessionDep", "get_runtime", "get_session"]


def get_runtime(request: Request) -> Runtime:
    """The runtime the app was created over."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction for the request: committed once after the endpoint returns."""
    with transaction(runtime.sessions) as session:
        yield session


# scope="function": commit before the response is sent. With the default scope the
# commit would run after the client already had its 200, and a failed commit (a busy
# SQLite file, a PostgreSQL serialisation failure) would lose data the client was told
# was stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# Ids are opaque hex (memberops.db.new_id). Refusing anything else before it reaches a
# service keeps a phone number typed into the URL out of error messages and the audit log.
OpaqueId = Annotated[str, Path(pattern=r"^[0-9a-f]{26}$", description="opaque id")]
