"""The one boundary for "now".

Tier periods, points expiry, SLAs, recency and coupon cycles all depend on the current
time, so nothing calls `datetime.now()` directly: code asks a `Clock`. The process has one
current clock (the system clock unless a test or a replay sets another); services that
must be explicit take `clock=` or `now=` arguments.

    >>> from datetime import UTC, datetime, timedelta
    >>> clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    >>> with use_clock(clock):
    ...     clock.advance(timedelta(days=1))
    ...     now().day
    2
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FixedClock", "SystemClock", "current_clock", "now", "use_clock"]


class Clock(Protocol):
    """Anything that can tell the current, timezone-aware time."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move (tests, replays, simulations)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        """Jump to `at` (aware)."""
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def advance(self, delta: timedelta) -> None:
        """Move forward (or back, with a negative delta)."""
        self._at = self._at + delta


_current: Clock = SystemClock()


def current_clock() -> Clock:
    """The clock the process uses now."""
    return _current


def now() -> datetime:
    """The current time from the process clock, timezone-aware."""
    return _current.now()


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Make `clock` the process clock inside the block (restored afterwards)."""
    global _current
    previous = _current
    _current = clock
    try:
        yield clock
    finally:
        _current = previous
