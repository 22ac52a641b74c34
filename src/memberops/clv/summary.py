"""From transactions to the sufficient statistics the models read.

One row per customer: frequency (repeat purchase periods), recency (period of the last
purchase minus the first), T (end of observation minus the first purchase) and
monetary_value (mean value of the repeat periods; 0 without repeats). Purchases on the
same period (a day by default) count once, as in Fader and Hardie's CDNOW work and in
lifetimes, so two tickets at one dinner are one visit.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from memberops.errors import ValidationError
from memberops.frames import group_starts, key_codes

__all__ = ["split_calibration_holdout", "summarise_transactions"]


def _require(transactions: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        if column not in transactions.columns:
            raise ValidationError("transactions", column, "column is missing")


def _period_index(values: pd.Series, period_days: float) -> np.ndarray:
    """Whole periods since the epoch (UTC), so equal periods compare equal."""
    times = pd.to_datetime(values, utc=True)
    if times.isna().any():
        raise ValidationError("transactions", str(values.name), "has blank or invalid times")
    days = times.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    periods: np.ndarray = np.floor(days / period_days).astype(np.int64)
    return periods


def _end_period(end: datetime | str, period_days: float) -> int:
    stamp = pd.Timestamp(end)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    days = int(stamp.to_datetime64().astype("datetime64[D]").astype(np.int64))
    return int(np.floor(days / period_days))


def summarise_transactions(
    transactions: pd.DataFrame,
    *,
    customer_column: str = "customer_id",
    time_column: str = "date",
    monetary_column: str | None = None,
    observation_end: datetime | str | None = None,
    period_days: float = 1.0,
) -> pd.DataFrame:
    """Per-customer frequency, recency, T (in periods) and, with a monetary column, the
    mean repeat-period value.

    `observation_end` defaults to the last transaction; later transactions are ignored.
    A missing column raises `ValidationError` naming it.

        >>> summarise_transactions(df, customer_column="member_id", time_column="ordered_at",
        ...                        monetary_column="net_cents")  # doctest: +SKIP
    """
    needed = [customer_column, time_column] + ([monetary_column] if monetary_column else [])
    _require(transactions, needed)
    if period_days <= 0:
        raise ValidationError("summary", "period_days", "must be positive")
    codes, customers = key_codes(transactions, [customer_column])
    period = _period_index(transactions[time_column], period_days)
    value = (
        pd.to_numeric(transactions[monetary_column], errors="raise").to_numpy(dtype=np.float64)
        if monetary_column
        else np.zeros(len(transactions))
    )
    # The observation ends at the last transaction by default, a customer's or not; a
    # transaction without a customer then belongs to nobody's summary.
    end = _end_period(observation_end, period_days) if observation_end is not None else None
    if end is None and period.size:
        end = int(period.max())
    keep = codes >= 0 if end is None else (codes >= 0) & (period <= end)
    codes, period, value = codes[keep], period[keep], value[keep]
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if monetary_column else [])
    if period.size == 0:
        empty = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in columns})
        empty.index.name = customer_column
        return empty
    # Sort once by (customer, period); purchases in one period are one purchase whose
    # value is their sum, and each customer's periods are then a contiguous run.
    order = np.lexsort((period, codes))
    codes, period, value = codes[order], period[order], value[order]
    new_period = np.ones(codes.size, dtype=bool)
    new_period[1:] = (codes[1:] != codes[:-1]) | (period[1:] != period[:-1])
    at = np.flatnonzero(new_period)
    codes, period, value = codes[at], period[at], np.add.reduceat(value, at)
    starts = group_starts(codes)
    count = np.diff(np.append(starts, codes.size))
    first = period[starts]
    frequency = (count - 1).astype(np.float64)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (period[starts + count - 1] - first).astype(np.float64),
            "T": (end - first).astype(np.float64),
        },
        index=pd.Index(customers[customer_column].iloc[codes[starts]], name=customer_column),
    )
    if monetary_column:
        repeat_total = np.add.reduceat(value, starts) - value[starts]
        summary["monetary_value"] = np.where(
            frequency > 0, repeat_total / np.where(frequency > 0, frequency, 1.0), 0.0
        )
    return summary


def split_calibration_holdout(
    transactions: pd.DataFrame,
    *,
    calibration_end: datetime | str,
    observation_end: datetime | str,
    customer_column: str = "customer_id",
    time_column: str = "date",
    monetary_column: str | None = None,
    period_days: float = 1.0,
) -> pd.DataFrame:
    """The calibration summary of customers first seen by `calibration_end`, with their
    repeat purchase periods in the holdout (`frequency_holdout`) and its length
    (`duration_holdout`), for forecast-against-actual checks."""
    _require(transactions, [customer_column, time_column])
    cal_end = _end_period(calibration_end, period_days)
    obs_end = _end_period(observation_end, period_days)
    if obs_end <= cal_end:
        raise ValidationError("split", "observation_end", "must be after calibration_end")
    periods = _period_index(transactions[time_column], period_days)
    calibration = summarise_transactions(
        transactions[periods <= cal_end],
        customer_column=customer_column,
        time_column=time_column,
        monetary_column=monetary_column,
        observation_end=calibration_end,
        period_days=period_days,
    )
    holdout = pd.DataFrame(
        {"customer": transactions[customer_column].to_numpy(), "period": periods}
    )
    holdout = holdout[(holdout["period"] > cal_end) & (holdout["period"] <= obs_end)]
    counts = holdout.drop_duplicates().groupby("customer").size()
    calibration["frequency_holdout"] = (
        counts.reindex(calibration.index).fillna(0).astype(np.float64).to_numpy()
    )
    calibration["duration_holdout"] = float(obs_end - cal_end)
    return calibration
