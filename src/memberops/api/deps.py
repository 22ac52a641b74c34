"""FastAPI dependencies every router shares: the runtime, one transaction per request
(or a read-only one), the rate limiter and the path id format.

The request owns the transaction: services flush, the dependency commits once after the
endpoint returns and rolls back if it raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from memberops.api.ratelimit import RequestLimiter
from memberops.db import read_transaction, transaction
from memberops.runtime import Runtime

__all__ = [
    "OpaqueId",
    "ReadSessionDep",
    "RuntimeDep",
    "SessionDep",
    "get_limiter",
    "get_read_session",
    "get_runtime",
    "get_session",
    "route_name",
]


def get_runtime(request: Request) -> Runtime:
    """The app's runtime. Its key ring is brought up to date with the database by each
    request's session (`Runtime.refresh_keyring`) before anything reads `keyring`."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """The request's writing transaction, the key ring checked first.

    The check reads in a read-only transaction of its own: the writing one must not touch
    the database yet (on SQLite that takes the write lock, and a denial audited by a
    later dependency in its own transaction would then wait behind it).
    """
    with read_transaction(runtime.read_sessions) as check:
        runtime.refresh_keyring(check)
    with transaction(runtime.sessions) as session:
        yield session


def get_read_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A read-only session: on SQLite it reads beside a running writer, never waiting."""
    with read_transaction(runtime.read_sessions) as session:
        runtime.refresh_keyring(session)
        yield session


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]

# scope="function": commit before the response is sent. With the default scope the
# commit would run after the client already had its 200, and a failed commit (a busy
# SQLite file, a PostgreSQL serialisation failure) would lose data the client was told
# was stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# Ids are opaque hex (memberops.db.new_id). Refusing anything else before it reaches a
# service keeps a phone number typed into the URL out of error messages and the audit log.
OpaqueId = Annotated[str, Path(pattern=r"^[0-9a-f]{26}$", description="opaque id")]


def get_limiter(request: Request) -> RequestLimiter | None:
    """The app's rate limiter (None when limits are switched off)."""
    limiter: RequestLimiter | None = getattr(request.app.state, "limiter", None)
    return limiter


def route_name(request: Request) -> str:
    """`METHOD /path/template` of the matched route: the unit rate limits count by."""
    route = request.scope.get("route")
    path = str(getattr(route, "path", request.url.path))
    # Routes included under the /v1 prefix may report their path without it.
    if not path.startswith("/v1/"):
        path = "/v1" + path
    return f"{request.method} {path}"
