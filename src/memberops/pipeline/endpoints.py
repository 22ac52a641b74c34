"""Profile freshness in the API server: refresh incrementally after orders are ingested.

`install_profile_refresher(app, runtime)` starts a `BackgroundRefresher` with the app's
lifespan and notifies it after every successful `POST /v1/orders` (the middleware runs
after the request's transaction committed). Freshness: an ingested order is reflected in
profiles about `delay` seconds (2 s) plus one incremental refresh later; recency and
tenure are computed at read time and are always current.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memberops.pipeline.runner import BackgroundRefresher
from memberops.runtime import Runtime

__all__ = ["INGESTION_PATHS", "install_profile_refresher"]

INGESTION_PATHS = ("/v1/orders",)


def install_profile_refresher(app: FastAPI, runtime: Runtime, *, delay: float = 2.0) -> None:
    """Run the incremental refresh in the background of `app` (see module docstring)."""
    refresher = BackgroundRefresher(runtime, delay=delay)
    app.state.profile_refresher = refresher
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        refresher.start()
        try:
            async with inner(a) as state:
                yield state
        finally:
            refresher.stop()

    app.router.lifespan_context = lifespan

    app.add_middleware(IngestionNotifier, refresher=refresher)


class IngestionNotifier:
    """Pure ASGI middleware: after a successful ingestion request has answered (its
    transaction committed), tell the refresher."""

    def __init__(self, app: ASGIApp, refresher: BackgroundRefresher) -> None:
        self.app = app
        self.refresher = refresher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; notify when it was a successful POST to an ingestion path."""
        if not (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path") in INGESTION_PATHS
        ):
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, remember_status)
        if status < 300:
            self.refresher.notify()
