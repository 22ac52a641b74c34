"""One access-log line per request, with no personal value in it.

The line names the route's template (`/v1/members/{member_id}`), never the concrete path,
and the names of the query parameters, never their values: a phone, card number or name
sent in a path or a query string cannot reach the log. The caller is named by its key id
and role (a key id identifies the key, not a person, and is what an operator revokes).
Paths that match no route are logged as `<unmatched>` for the same reason.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ACCESS_LOGGER", "AccessLog", "access_record"]

ACCESS_LOGGER = "memberops.access"

_log = logging.getLogger(ACCESS_LOGGER)


def access_record(scope: Scope, status: int, duration_ms: float) -> dict[str, Any]:
    """The fields logged for one finished request (no personal value among them)."""
    path = str(scope.get("path", ""))
    if scope.get("route") is not None:
        template = _template(path, scope.get("path_params", {}))
    elif path.startswith(("/static/", "/v1/docs/assets/")):
        # Static assets are mounted, not routed: their paths hold no personal value.
        template = path
    else:
        template = "<unmatched>"
    query = scope.get("query_string", b"").decode("latin-1")
    names = sorted({name for name, _value in parse_qsl(query, keep_blank_values=True)})
    actor = scope.get("state", {}).get("actor")
    return {
        "method": scope.get("method", ""),
        "route": template,
        "query": names,
        "status": status,
        "ms": round(duration_ms, 1),
        "caller": actor.label if actor is not None else "-",
        "role": actor.role if actor is not None else "-",
    }


def _template(path: str, params: dict[str, Any]) -> str:
    """`/v1/members/123` with params {member_id: '123'} -> `/v1/members/{member_id}`.

    Built from the concrete path because a route included under a prefix reports its
    template without the prefix.
    """
    names_by_value = {str(value): name for name, value in params.items()}
    if any("/" in value for value in names_by_value):
        return "<multi-segment parameter>"  # never reached by /v1 routes; never leak it
    segments = [
        f"{{{names_by_value[segment]}}}" if segment in names_by_value else segment
        for segment in path.split("/")
    ]
    return "/".join(segments)


class AccessLog:
    """Pure ASGI middleware writing `access_record` to the `memberops.access` logger."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request, remember its status, log one line when it ends."""
        if scope["type"] != "http" or not _log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees when the app raises before answering

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            record = access_record(scope, status, (time.perf_counter() - started) * 1000)
            _log.info(
                "%s %s query=%s status=%d ms=%.1f caller=%s role=%s",
                record["method"],
                record["route"],
                ",".join(record["query"]) or "-",
                record["status"],
                record["ms"],
                record["caller"],
                record["role"],
            )
