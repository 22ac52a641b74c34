"""Serving the API over an open runtime with uvicorn."""

from __future__ import annotations

import uvicorn

from memberops.api.app import create_app
from memberops.logs import configure_logging
from memberops.runtime import Runtime

__all__ = ["run_server"]


def run_server(runtime: Runtime, host: str, port: int) -> None:
    """Serve the API on host:port until interrupted (the caller closes the runtime).

    Member profiles refresh in the background after each ingested batch. Each request is
    logged on stderr by `memberops.api.accesslog` (route template, never the values).
    """
    configure_logging()  # one access-log line per request, personal values masked
    # A bounded graceful shutdown: SIGTERM ends the server even with requests in flight.
    uvicorn.run(
        create_app(runtime, refresh_profiles=True),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=10,
        server_header=False,  # no banner naming the server software
    )
