"""Running a refresh as one unit of work: the edge for the CLI, the demo and the server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from memberops.db import transaction
from memberops.errors import ValidationError
from memberops.pipeline.engines import ENGINES, EngineName
from memberops.pipeline.service import RefreshReport, refresh_profiles
from memberops.runtime import Runtime

__all__ = ["BackgroundRefresher", "run_refresh"]


def run_refresh(
    runtime: Runtime,
    *,
    engine: str = "duckdb",
    full: bool = False,
    spark: Any = None,
    progress: Callable[[str], None] | None = None,
) -> RefreshReport:
    """One refresh in its own transaction, committed once at the end."""
    if engine not in ENGINES:
        raise ValidationError("pipeline", "engine", f"must be one of {', '.join(ENGINES)}")
    chosen: EngineName = engine
    if chosen == "postgres" and not runtime.settings.database_url.startswith("postgresql"):
        raise ValidationError(
            "pipeline", "engine", "postgres runs in place and needs a PostgreSQL database"
        )
    with transaction(runtime.sessions) as session:
        return refresh_profiles(
            session,
            runtime.keyring,
            engine=chosen,
            full=full,
            database_url=runtime.settings.database_url,
            spark=spark,
            progress=progress,
        )


class BackgroundRefresher:
    """Runs the incremental refresh shortly after ingestion commits.

    `notify()` is called after an order batch commits; a daemon thread waits `delay`
    seconds (so a burst of batches becomes one refresh) and refreshes. Freshness: an
    order is visible in the profile `delay` seconds plus one refresh after its batch
    commits; with no notification the thread still refreshes every `interval` seconds
    (clock-driven values need no refresh: they are computed at read time).
    """

    def __init__(self, runtime: Runtime, *, delay: float = 2.0, interval: float = 300.0) -> None:
        self.runtime = runtime
        self.delay = delay
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshes = 0
        self.last_error: str | None = None

    def start(self) -> None:
        """Start the daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="profile-refresh", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        """New data committed: refresh soon."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread, letting a running refresh finish."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def refresh_now(self) -> RefreshReport:
        """One incremental refresh on this thread (tests and the loop)."""
        report = run_refresh(self.runtime)
        self.refreshes += 1
        return report

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            if self._stop.is_set():
                return
            self._stop.wait(self.delay)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.refresh_now()
                self.last_error = None
            except Exception as exc:
                self.last_error = type(exc).__name__
