"""FastAPI dependencies: the runtime, one transaction per request, the actor, roles.

The request owns the transaction: services flush, the dependency commits once after the
endpoint returns and rolls back if it raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.api.auth import authenticate
from memberops.api.ratelimit import RequestLimiter
from memberops.db import read_transaction, transaction
from memberops.errors import Forbidden, MemberOpsError
from memberops.privacy import audit
from memberops.runtime import Runtime

__all__ = [
    "ActorDep",
    "ReadSessionDep",
    "RuntimeDep",
    "SessionDep",
    "Unauthenticated",
    "current_actor",
    "deny",
    "get_limiter",
    "get_read_session",
    "get_runtime",
    "get_session",
    "require_roles",
    "route_name",
]


class Unauthenticated(MemberOpsError):
    """No valid API key was presented (HTTP 401)."""

    code = "unauthenticated"


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


def _presented_secret(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


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


def current_actor(request: Request, runtime: RuntimeDep) -> Actor:
    """The authenticated actor; 401 without a valid key, 429 past the key's limit."""
    limiter = get_limiter(request)
    secret = _presented_secret(request)
    actor = None
    if secret:
        with read_transaction(runtime.read_sessions) as session:
            actor = authenticate(session, secret)
    if actor is None:
        if limiter is not None:
            # Guessing keys is counted per address, so it cannot go on for long.
            limiter.check_unauthenticated(request.client.host if request.client else "-")
        if not secret:
            raise Unauthenticated("an API key is required (Authorization: Bearer <key>)")
        raise Unauthenticated("the API key is not valid")
    if limiter is not None:
        limiter.check(actor.id, route_name(request))
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


def require_roles(*roles: str) -> Callable[..., Actor]:
    """A dependency that lets only `roles` through, auditing every denial."""

    def dependency(request: Request, actor: ActorDep, runtime: RuntimeDep) -> Actor:
        if actor.role not in roles:
            with transaction(runtime.sessions) as session:
                audit.record(
                    session,
                    actor,
                    "access.denied",
                    reason=f"{request.method} {request.url.path} needs {'/'.join(roles)}",
                    outcome="denied",
                )
            raise Forbidden(f"this action needs one of the roles: {', '.join(roles)}")
        return actor

    return dependency


def deny(runtime: Runtime, actor: Actor, *, what: str, member_id: str | None = None) -> None:
    """Audit a denial decided inside an endpoint (own transaction, survives the rollback).

    On SQLite every transaction takes the write lock, so call this before the request's
    session has touched the database, or after rolling that session back.
    """
    with transaction(runtime.sessions) as session:
        audit.record(
            session, actor, "access.denied", member_id=member_id, reason=what, outcome="denied"
        )
