"""Profile freshness in the API server: refresh incrementally after orders are ingested.

`install_profile_refresher(app, runtime)` starts a `BackgroundRefresher` with the app's
lifespan and notifies it after every successful `POST /v1/orders` (the middleware runs
after the request's transaction committed). Freshness: an ingested order is reflected in
profiles about `delay` seconds (2 s) plus one incremental refresh later; recency and
tenure are computed at read time and are always current.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

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

    @app.middleware("http")
    async def notify_after_ingestion(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if (
            request.method == "POST"
            and request.url.path in INGESTION_PATHS
            and response.status_code < 300
        ):
            refresher.notify()
        return response
