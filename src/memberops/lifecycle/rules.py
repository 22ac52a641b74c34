"""Lifecycle states: a pure state machine over a member's visit days.

At each evaluation point P (every month end, and the "as of" day for the current month)
a member with at least one visit on or before P is in exactly one state, the first rule
that matches (days are whole days from a visit's business date to P; docs/analytics.md,
"Lifecycle"):

| state        | rule                                                               |
|--------------|--------------------------------------------------------------------|
| new          | first visit within `new_days` (30)                                 |
| reactivated  | came back after a lapse (a visit more than `lapsed_days` after the  |
|              | one before it) within the last `active_days`                        |
| active       | last visit within `active_days` (60)                               |
| at risk      | last visit within `lapsed_days` (120)                              |
| lapsed       | last visit more than `lapsed_days` ago                             |

Before the first visit a member has no state. A lapsed member who visits again is
reactivated at the next point (whenever `active_days` is at least the 31 days between two
points); reactivated turns active once the return is older than `active_days`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "STATES",
    "LifecycleConfig",
    "classify",
    "evaluation_points",
    "member_states",
    "month_index",
    "month_label",
]

STATES = ("new", "active", "reactivated", "at risk", "lapsed")


@dataclass(frozen=True)
class LifecycleConfig:
    """Thresholds in days: new within `new_days` of the first visit, active within
    `active_days` of the last, lapsed beyond `lapsed_days`."""

    new_days: int = 30
    active_days: int = 60
    lapsed_days: int = 120

    def problems(self) -> list[tuple[str, str]]:
        """(field, reason) for each invalid setting; empty when valid."""
        out = []
        if self.new_days < 1:
            out.append(("new_days", "must be at least 1"))
        if self.active_days < self.new_days:
            out.append(("active_days", "must be at least new_days"))
        if self.lapsed_days <= self.active_days:
            out.append(("lapsed_days", "must be more than active_days"))
        return out


def classify(
    days_since_first: int,
    days_since_last: int,
    days_since_return: int | None,
    config: LifecycleConfig = LifecycleConfig(),  # noqa: B008 - frozen, so shared safely
) -> str:
    """The state at a point from days since the first visit, the last visit and the last
    return after a lapse (None when the member never lapsed and came back).

    >>> classify(10, 10, None), classify(400, 10, 10), classify(400, 90, None)
    ('new', 'reactivated', 'at risk')
    """
    if days_since_first <= config.new_days:
        return "new"
    if days_since_return is not None and days_since_return <= config.active_days:
        return "reactivated"
    if days_since_last <= config.active_days:
        return "active"
    if days_since_last <= config.lapsed_days:
        return "at risk"
    return "lapsed"


def member_states(
    visit_days: Iterable[date],
    points: Sequence[date],
    config: LifecycleConfig = LifecycleConfig(),  # noqa: B008 - frozen, so shared safely
) -> list[str | None]:
    """The state at each of `points` (ascending) of a member who visited on `visit_days`
    (any order, repeats allowed); None before the first visit.

    >>> member_states([date(2026, 1, 5)], [date(2025, 12, 31), date(2026, 1, 31)])
    [None, 'new']
    """
    days = sorted(set(visit_days))
    out: list[str | None] = []
    i = 0
    first: date | None = None
    last: date | None = None
    last_return: date | None = None
    for point in points:
        while i < len(days) and days[i] <= point:
            day = days[i]
            if last is not None and (day - last).days > config.lapsed_days:
                last_return = day
            first = first or day
            last = day
            i += 1
        if first is None or last is None:
            out.append(None)
            continue
        out.append(
            classify(
                (point - first).days,
                (point - last).days,
                None if last_return is None else (point - last_return).days,
                config,
            )
        )
    return out


def month_label(point: date) -> str:
    """'YYYY-MM' of a point."""
    return f"{point.year:04d}-{point.month:02d}"


def month_index(year: int, month: int) -> int:
    """Months since year 0, so month differences are subtractions."""
    return year * 12 + month - 1


def evaluation_points(first_day: date, as_of: date) -> list[date]:
    """Every month end from the month of `first_day` to the month before `as_of`, then
    `as_of` itself (the current month so far); empty when `as_of` is before `first_day`."""
    if as_of < first_day:
        return []
    points = []
    year, month = first_day.year, first_day.month
    while (year, month) < (as_of.year, as_of.month):
        points.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    points.append(as_of)
    return points
