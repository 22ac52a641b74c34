"""Inter-visit gaps per member (or member x category) and the "due" rule. Pure pandas and
NumPy (grouped on integer codes, `memberops.frames`).

A visit is a day with a counted order (with a line of the category, for the per-category
cycle). For a member with gaps g_1..g_k between consecutive visit days:

- usual cycle = median gap (robust to one long holiday), with the 25th/75th percentiles;
- expected next visit = last visit + usual cycle;
- due: at least `min_visits` visits, and days since the last visit >= `due_factor` x usual
  cycle but < `lapsed_factor` x usual cycle (past that a reminder about the usual dish is
  no longer the right message: the member is lapsed and belongs to win-back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from memberops.errors import ValidationError
from memberops.frames import group_quantile, group_starts, key_codes

__all__ = ["CycleConfig", "gap_histogram", "visit_cycles"]

_COLUMNS = (
    "visits",
    "first_visit",
    "last_visit",
    "median_gap_days",
    "p25_gap_days",
    "p75_gap_days",
    "mean_gap_days",
    "expected_next_visit",
    "days_since_last",
    "days_overdue",
    "status",
)


@dataclass(frozen=True)
class CycleConfig:
    """Thresholds of the due list (see the module docstring)."""

    min_visits: int = 3
    due_factor: float = 1.25
    lapsed_factor: float = 4.0

    def check(self) -> None:
        """Refuse thresholds that make no list, naming the field."""
        if self.min_visits < 2:
            raise ValidationError("cycle config", "min_visits", "must be at least 2")
        if self.due_factor <= 0:
            raise ValidationError("cycle config", "due_factor", "must be positive")
        if self.lapsed_factor <= self.due_factor:
            raise ValidationError("cycle config", "lapsed_factor", "must exceed due_factor")


@dataclass(frozen=True)
class _VisitDays:
    """Distinct visit days sorted by key then day, with the group layout."""

    distinct: pd.DataFrame  # one row per key, in key order
    day: np.ndarray  # int64 days since the epoch (UTC), sorted within each key
    same: np.ndarray  # True where the row continues the previous row's key
    starts: np.ndarray  # where each key's days start
    counts: np.ndarray  # visit days per key


def _visit_days(visits: pd.DataFrame, keys: list[str], time_column: str) -> _VisitDays:
    for column in [*keys, time_column]:
        if column not in visits.columns:
            raise ValidationError("visits", column, "column is missing")
    times = pd.to_datetime(visits[time_column], utc=True)
    day = times.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    codes, distinct = key_codes(visits, keys)
    known = codes >= 0  # a visit without its key belongs to no group
    codes, day = codes[known], day[known]
    order = np.lexsort((day, codes))
    codes, day = codes[order], day[order]
    # One visit per key and day: drop repeats of the same (key, day).
    keep = np.ones(day.size, dtype=bool)
    keep[1:] = (codes[1:] != codes[:-1]) | (day[1:] != day[:-1])
    codes, day = codes[keep], day[keep]
    starts = group_starts(codes)
    counts = np.diff(np.append(starts, codes.size))
    same = np.zeros(codes.size, dtype=bool)
    same[1:] = codes[1:] == codes[:-1]
    return _VisitDays(
        distinct.iloc[codes[starts]].reset_index(drop=True), day, same, starts, counts
    )


def _as_timestamps(days: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(days.astype("datetime64[D]"), utc=True))


def visit_cycles(
    visits: pd.DataFrame,
    *,
    as_of: datetime,
    keys: tuple[str, ...] = ("member_id",),
    time_column: str = "ordered_at",
    config: CycleConfig | None = None,
) -> pd.DataFrame:
    """One row per key: visits, first/last visit, gap percentiles (days), expected next
    visit, days since the last visit, days overdue and a status (due, not_due, lapsed,
    too_few_visits)."""
    config = config or CycleConfig()
    config.check()
    key_list = list(keys)
    days = _visit_days(visits, key_list, time_column)
    if days.day.size == 0:
        return pd.DataFrame(columns=[*key_list, *_COLUMNS])
    today = pd.Timestamp(as_of).tz_convert("UTC").floor("D")
    today_day = int(today.to_datetime64().astype("datetime64[D]").astype(np.int64))
    # Gaps of a key are its days' differences; sorting (key, gap) lays each key's gaps
    # out contiguously and ascending, so percentiles are index arithmetic.
    gap_rows = np.flatnonzero(days.same)
    gaps = (days.day[gap_rows] - days.day[gap_rows - 1]).astype(np.float64)
    owner = np.repeat(np.arange(days.starts.size), days.counts)[gap_rows]
    order = np.lexsort((gaps, owner))
    gaps, owner = gaps[order], owner[order]
    gap_counts = days.counts - 1
    gap_starts = np.concatenate(([0], np.cumsum(gap_counts)[:-1])).astype(np.int64)
    first = days.day[days.starts]
    last = days.day[days.starts + days.counts - 1]
    median = group_quantile(gaps, gap_starts, gap_counts, 0.5)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(owner, weights=gaps, minlength=days.starts.size) / gap_counts
    mean[gap_counts == 0] = np.nan
    since = (today_day - last).astype(np.float64)
    result = days.distinct.copy()
    result["visits"] = days.counts.astype(np.int64)
    result["first_visit"] = _as_timestamps(first)
    result["last_visit"] = _as_timestamps(last)
    result["median_gap_days"] = median
    result["p25_gap_days"] = group_quantile(gaps, gap_starts, gap_counts, 0.25)
    result["p75_gap_days"] = group_quantile(gaps, gap_starts, gap_counts, 0.75)
    result["mean_gap_days"] = mean
    result["expected_next_visit"] = result["last_visit"] + pd.to_timedelta(median, unit="D")
    result["days_since_last"] = since
    result["days_overdue"] = since - median
    status = np.full(len(result), "not_due", dtype=object)
    status[since >= config.due_factor * median] = "due"
    status[since >= config.lapsed_factor * median] = "lapsed"
    status[days.counts < config.min_visits] = "too_few_visits"
    result["status"] = status
    return result


def gap_histogram(
    visits: pd.DataFrame,
    *,
    keys: tuple[str, ...] = ("member_id",),
    time_column: str = "ordered_at",
    edges_days: tuple[int, ...] = (0, 7, 14, 21, 30, 45, 60, 90, 120, 180, 365),
) -> list[dict[str, object]]:
    """How many gaps between consecutive visits fall in each range of days (the last
    range is open-ended)."""
    days = _visit_days(visits, list(keys), time_column)
    gap_rows = np.flatnonzero(days.same)
    gaps = (days.day[gap_rows] - days.day[gap_rows - 1]).astype(np.float64)
    bins = [*edges_days, np.inf]
    counts, _ = np.histogram(gaps, bins=bins)
    return [
        {"from_days": int(lo), "to_days": None if np.isinf(hi) else int(hi), "gaps": int(c)}
        for lo, hi, c in zip(bins[:-1], bins[1:], counts, strict=True)
    ]
