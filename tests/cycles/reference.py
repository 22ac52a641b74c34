"""The grouped-in-pandas formulation of the cycle rules, kept as a reference: slower, but
written the obvious way (drop repeated days, sort, diff, group-by quantiles), so the
NumPy formulation in `memberops.cycles.rules` is tested against it."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from memberops.cycles.rules import _COLUMNS, CycleConfig
from memberops.errors import ValidationError


def _visit_days(visits: pd.DataFrame, keys: list[str], time_column: str) -> pd.DataFrame:
    for column in [*keys, time_column]:
        if column not in visits.columns:
            raise ValidationError("visits", column, "column is missing")
    days = pd.to_datetime(visits[time_column], utc=True).dt.floor("D")
    frame = visits[keys].copy()
    frame["day"] = days
    return frame.drop_duplicates().sort_values([*keys, "day"], kind="stable")


def reference_visit_cycles(
    visits: pd.DataFrame,
    *,
    as_of: datetime,
    keys: tuple[str, ...] = ("member_id",),
    time_column: str = "ordered_at",
    config: CycleConfig | None = None,
) -> pd.DataFrame:
    """`visit_cycles` by pandas group-bys."""
    config = config or CycleConfig()
    config.check()
    key_list = list(keys)
    days = _visit_days(visits, key_list, time_column)
    today = pd.Timestamp(as_of).tz_convert("UTC").floor("D")
    if days.empty:
        return pd.DataFrame(columns=[*key_list, *_COLUMNS])
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
