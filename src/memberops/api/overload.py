"""Shedding load: at most `max_in_flight` requests inside the app, a short bounded queue,
and a 503 for the rest.

Without a bound, a server slower than its arrivals keeps accepting requests; each one
past its first dependency holds a database connection while it waits for a thread, the
pool runs dry, and every request (health checks too) times out together: the server
looks wedged. With the bound, requests beyond it wait at most `queue_timeout_s` and are
then answered `503` with `Retry-After`, the server keeps answering what it admitted, and
it recovers as soon as arrivals drop. `/v1/health` is never queued.
"""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from memberops.api.errors import error_body

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "InFlightLimit"]

# Below the connection pool (memberops.db): a request holds at most two connections.
DEFAULT_MAX_IN_FLIGHT = 24
SATURATED_MESSAGE = "the server is busy; retry shortly"


class InFlightLimit:
    """ASGI middleware admitting at most `max_in_flight` HTTP requests at once."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        queue_timeout_s: float = 1.0,
        exempt_paths: tuple[str, ...] = ("/v1/health",),
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.queue_timeout_s = queue_timeout_s
        self.exempt_paths = exempt_paths
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created on the server's event loop
            self._slots = asyncio.Semaphore(self.max_in_flight)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout_s)
        except TimeoutError:
            await _saturated(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()


async def _saturated(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        error_body("unavailable", SATURATED_MESSAGE),
        status_code=503,
        headers={"Retry-After": "1"},
    )
    await response(scope, receive, send)
