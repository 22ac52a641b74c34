"""The grouped-in-pandas formulation of the transaction summary, kept as a reference:
written the obvious way (sum per customer and period, then group by customer), so the
NumPy formulation in `memberops.clv.summary` is tested against it."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from memberops.clv.summary import _end_period, _period_index, _require
from memberops.errors import ValidationError


def reference_summarise_transactions(
    transactions: pd.DataFrame,
    *,
    customer_column: str = "customer_id",
    time_column: str = "date",
    monetary_column: str | None = None,
    observation_end: datetime | str | None = None,
    period_days: float = 1.0,
) -> pd.DataFrame:
    """`summarise_transactions` by pandas group-bys (the same period arithmetic)."""
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
