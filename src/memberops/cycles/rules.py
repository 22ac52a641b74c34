"""Inter-visit gaps per member (or member x category) and the "due" rule. Pure pandas.

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

__all__ = ["CycleConfig", "gap_histogram", "visit_cycles"]


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


def _visit_days(visits: pd.DataFrame, keys: list[str], time_column: str) -> pd.DataFrame:
    for column in [*keys, time_column]:
        if column not in visits.columns:
            raise ValidationError("visits", column, "column is missing")
    days = pd.to_datetime(visits[time_column], utc=True).dt.floor("D")
    frame = visits[keys].copy()
    frame["day"] = days
    return frame.drop_duplicates().sort_values([*keys, "day"], kind="stable")


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
    today = pd.Timestamp(as_of).tz_convert("UTC").floor("D")
    if days.empty:
        return pd.DataFrame(
            columns=[
                *key_list,
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
            ]
        )
    same = (days[key_list].shift() == days[key_list]).all(axis=1).to_numpy()
    gap = (days["day"].diff().dt.days).to_numpy(dtype=np.float64)
    days["gap"] = np.where(same, gap, np.nan)
    grouped = days.groupby(key_list, sort=False)
    result = grouped["day"].agg(visits="size", first_visit="min", last_visit="max")
    gaps = grouped["gap"]
    result["median_gap_days"] = gaps.median()
    result["p25_gap_days"] = gaps.quantile(0.25)
    result["p75_gap_days"] = gaps.quantile(0.75)
    result["mean_gap_days"] = gaps.mean()
    result = result.reset_index()
    median = result["median_gap_days"]
    result["expected_next_visit"] = result["last_visit"] + pd.to_timedelta(median, unit="D")
    since = (today - result["last_visit"]).dt.days.astype(np.float64)
    result["days_since_last"] = since
    result["days_overdue"] = since - median
    status = np.full(len(result), "not_due", dtype=object)
    status[since.to_numpy() >= config.due_factor * median.to_numpy()] = "due"
    status[since.to_numpy() >= config.lapsed_factor * median.to_numpy()] = "lapsed"
    status[(result["visits"] < config.min_visits).to_numpy()] = "too_few_visits"
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
    key_list = list(keys)
    days = _visit_days(visits, key_list, time_column)
    same = (days[key_list].shift() == days[key_list]).all(axis=1).to_numpy()
    gaps = days["day"].diff().dt.days.to_numpy(dtype=np.float64)[same]
    bins = [*edges_days, np.inf]
    counts, _ = np.histogram(gaps, bins=bins)
    return [
        {"from_days": int(lo), "to_days": None if np.isinf(hi) else int(hi), "gaps": int(c)}
        for lo, hi, c in zip(bins[:-1], bins[1:], counts, strict=True)
    ]
