"""The grouped-in-pandas formulation of the transaction summary, kept as a reference:
written the obvious way (sum per customer and period, then group by customer), so the
NumPy formulation in `memberops.clv.summary` is tested against it."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from memberops.errors import ValidationError


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


def reference_summarise_transactions(
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
    frame = pd.DataFrame(
        {
            "customer": transactions[customer_column].to_numpy(),
            "period": _period_index(transactions[time_column], period_days),
            "value": (
                pd.to_numeric(transactions[monetary_column], errors="raise").to_numpy(
                    dtype=np.float64
                )
                if monetary_column
                else np.zeros(len(transactions))
            ),
        }
    )
    end = int(frame["period"].max()) if observation_end is None else None
    if observation_end is not None:
        end = _end_period(observation_end, period_days)
        frame = frame[frame["period"] <= end]
    assert end is not None
    per_period = frame.groupby(["customer", "period"], sort=True, as_index=False)["value"].sum()
    grouped = per_period.groupby("customer", sort=True)
    first = grouped["period"].min()
    last = grouped["period"].max()
    count = grouped["period"].size()
    first_value = grouped["value"].first()  # per_period is sorted by period within customer
    total = grouped["value"].sum()
    frequency = (count - 1).astype(np.float64)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).astype(np.float64),
            "T": (end - first).astype(np.float64),
        }
    )
    if monetary_column:
        repeat_total = total - first_value
        summary["monetary_value"] = np.where(
            frequency > 0, repeat_total / frequency.where(frequency > 0, 1.0), 0.0
        )
    summary.index.name = customer_column
    return summary
