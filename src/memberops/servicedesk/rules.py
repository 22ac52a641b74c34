"""Service-desk arithmetic as pure functions: SLA clocks on opening hours, NPS.

A complaint's SLA runs only while its store is open (osTicket users still ask for SLAs
on business hours; seed 004: fast complaint handling is part of the service, and a
store cannot call anyone back at 3 a.m.). Opening hours are written in the store's own
local time and may run past midnight (a hot-pot restaurant open 10:00-02:00); the clock
converts each opening window to an aware interval in the store's zone, so daylight-saving
changes and stores in other zones need no special case.

Nothing here touches a database or the clock: callers pass `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "CALLBACK_REASONS",
    "COMPLAINT_STATUSES",
    "DEFAULT_OPENING_HOURS",
    "OPEN_STATUSES",
    "WeeklyHours",
    "Window",
    "add_business_minutes",
    "business_minutes_between",
    "nps",
    "opening_intervals",
    "parse_window",
    "sla_state",
]

# Monday = 0 ... Sunday = 6, as `date.weekday()`.
WeeklyHours = Mapping[int, Sequence["Window"]]

COMPLAINT_STATUSES = ("open", "in_progress", "resolved", "closed")
OPEN_STATUSES = ("open", "in_progress")
CALLBACK_REASONS = ("first_visit", "complaint", "survey")

# Longest search for the next opening window: a store closed for a whole year is a
# configuration error, not a reason to loop forever.
_MAX_DAYS = 400


@dataclass(frozen=True)
class Window:
    """One opening window in local time; `closes <= opens` means it ends the next day."""

    opens: time
    closes: time

    @property
    def crosses_midnight(self) -> bool:
        return self.closes <= self.opens


def parse_window(text: str) -> Window:
    """`"10:00-22:00"` -> Window; `"10:00-02:00"` runs past midnight.

    >>> parse_window("10:00-02:00").crosses_midnight
    True
    """
    try:
        start, end = (part.strip() for part in text.split("-", 1))
        return Window(time.fromisoformat(start), time.fromisoformat(end))
    except ValueError as error:
        raise ValueError(f"opening window must read HH:MM-HH:MM, got {text!r}") from error


# A restaurant day when a store has declared nothing: 10:00-22:00 every day.
DEFAULT_OPENING_HOURS: dict[int, tuple[Window, ...]] = {
    day: (Window(time(10, 0), time(22, 0)),) for day in range(7)
}


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # fold=0 picks the earlier of two readings of a repeated hour and, for a skipped
    # hour, a time that normalises forward, so a window never runs backwards.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def opening_intervals(
    hours: WeeklyHours, zone: ZoneInfo, start: datetime, *, days: int = _MAX_DAYS
) -> Iterator[tuple[datetime, datetime]]:
    """Opening intervals (UTC, ordered, non-overlapping) that end after `start`.

    Begins with the local day before `start`, because yesterday's late window may
    still be open after midnight.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_end: datetime | None = None
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        windows = sorted(hours.get(day.weekday(), ()), key=lambda w: w.opens)
        for window in windows:
            opens = _local(day, window.opens, zone)
            close_day = day + timedelta(days=1) if window.crosses_midnight else day
            closes = _local(close_day, window.closes, zone)
            if last_end is not None and opens < last_end:
                opens = last_end  # overlapping declarations count once
            if closes <= opens or closes <= start:
                continue
            last_end = closes
            yield opens, closes


def add_business_minutes(
    start: datetime, minutes: int, hours: WeeklyHours, zone: ZoneInfo
) -> datetime:
    """The moment `minutes` of opening time have passed since `start` (UTC).

    A complaint taken after closing starts its clock at the next opening.

    >>> from zoneinfo import ZoneInfo
    >>> z = ZoneInfo("Asia/Shanghai")
    >>> friday_evening = datetime(2026, 3, 6, 21, 30, tzinfo=z)
    >>> add_business_minutes(friday_evening, 60, DEFAULT_OPENING_HOURS, z).astimezone(z)
    datetime.datetime(2026, 3, 7, 10, 30, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))
    """
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    left = timedelta(minutes=minutes)
    for opens, closes in opening_intervals(hours, zone, start):
        begin = max(opens, start.astimezone(UTC))
        available = closes - begin
        if left <= available:
            return begin + left
        left -= available
    raise ValueError(f"the store has no opening hours within {_MAX_DAYS} days")


def business_minutes_between(
    start: datetime, end: datetime, hours: WeeklyHours, zone: ZoneInfo
) -> int:
    """Whole minutes of opening time between `start` and `end` (negative if `end` is earlier)."""
    if end < start:
        return -business_minutes_between(end, start, hours, zone)
    total = timedelta()
    days = (end - start).days + 2
    for opens, closes in opening_intervals(hours, zone, start, days=days):
        if opens >= end:
            break
        total += min(closes, end) - max(opens, start)
    return int(total.total_seconds() // 60)


def sla_state(
    *, due_at: datetime, now: datetime, resolved_at: datetime | None, warn_minutes: int = 30
) -> str:
    """ "met", "breached" (resolved late), "lapsed" (open past due), "due_soon" or "running"."""
    if resolved_at is not None:
        return "met" if resolved_at <= due_at else "breached"
    if now >= due_at:
        return "lapsed"
    if due_at - now <= timedelta(minutes=warn_minutes):
        return "due_soon"
    return "running"


def nps(scores: Iterable[int]) -> tuple[int, float | None]:
    """(responses, Net Promoter Score): % promoters (9-10) minus % detractors (0-6).

    >>> nps([10, 9, 8, 3])
    (4, 25.0)
    """
    count = promoters = detractors = 0
    for score in scores:
        if not 0 <= score <= 10:
            raise ValueError("NPS answers run from 0 to 10")
        count += 1
        promoters += score >= 9
        detractors += score <= 6
    if count == 0:
        return 0, None
    return count, round(100.0 * (promoters - detractors) / count, 1)
