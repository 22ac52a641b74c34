"""Who is calling: the API key on the request, the roles a route allows, audited denials.

Keys themselves (creation, hashing, lookup) belong to `memberops.apikeys`; this module
only reads the presented secret and turns it into an actor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from memberops.actor import CONSOLE_ACTOR_SCOPE, Actor
from memberops.api.deps import RuntimeDep, get_limiter, route_name
from memberops.apikeys.service import LAST_USED_EVERY_S, authenticate, touch_last_used
from memberops.db import read_transaction, transaction, utcnow
from memberops.errors import Forbidden, NotFound, Unauthenticated
from memberops.privacy import audit
from memberops.runtime import Runtime

__all__ = ["ActorDep", "current_actor", "deny", "deny_other_member", "require_roles"]


def _presented_secret(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


_touched: dict[str, float] = {}
_touched_lock = threading.Lock()
# Last-used times are written off the request's path, one at a time: a request never
# waits for a write lock (or a busy database) to note that its key was used.
_touch_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memberops-key-use")
_log = logging.getLogger("memberops.api")


def _write_use(runtime: Runtime, key_id: str, at: datetime) -> None:
    try:
        with transaction(runtime.sessions) as session:
            touch_last_used(session, key_id, at)
    except Exception as error:  # best effort: the next use tries again
        _log.warning("could not note the use of key %s (%s)", key_id, type(error).__name__)
        with _touched_lock:
            _touched.pop(key_id, None)


def _note_use(runtime: Runtime, key_id: str) -> None:
    """Keep the key's last-used time, written at most once a minute per key and process."""
    now = time.monotonic()
    with _touched_lock:
        last = _touched.get(key_id)
        if last is not None and now - last < LAST_USED_EVERY_S:
            return
        _touched[key_id] = now
    _touch_writer.submit(_write_use, runtime, key_id, utcnow())


def current_actor(request: Request, runtime: RuntimeDep) -> Actor:
    """The authenticated actor; 401 without a valid key, 429 past the key's limit."""
    limiter = get_limiter(request)
    inner = request.scope.get(CONSOLE_ACTOR_SCOPE)
    if isinstance(inner, Actor):
        # The console reading a /v1 route in-process for its signed-in person.
        if limiter is not None:
            limiter.check(inner.id, route_name(request))
        request.state.actor = inner
        return inner
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
    if actor.kind == "api_key":
        _note_use(runtime, actor.id)
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


def deny_other_member(runtime: Runtime, actor: Actor, member_id: str, action: str) -> None:
    """A member key acting on another member: audit it, then answer as if absent.

    Any other member id answers 404, exactly as an id that does not exist, so a key cannot
    learn which ids are real (OWASP API1).
    """
    if actor.role == "member" and actor.member_id != member_id:
        deny(runtime, actor, what=f"{action} of another member", member_id=member_id)
        # The same words the services use for a missing member: nothing tells them apart.
        raise NotFound(f"member {member_id} not found")
