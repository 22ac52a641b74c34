"""Pure rules of the member 360 pipeline: clock-driven values and percentiles at read time.

They mirror `features.clock_features` and `features.spend_ranks` exactly (a test holds
them equal), so a profile read can advance recency and tenure to "now" and rank a member
with two indexed counts instead of rewriting every member's row when the clock moves.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = [
    "DAYS_PER_MONTH",
    "LOOKBACK",
    "clock_values",
    "percent_rank",
    "quarter_label",
]

DAYS_PER_MONTH = 30.436875
# Changes are picked up from this long before the last run's watermark, so a transaction
# that was open while the previous refresh read (its rows stamped earlier, committed
# later) is still seen. Reprocessing a member twice is harmless (idempotent).
LOOKBACK = timedelta(minutes=10)


def _floor_days(later: datetime, earlier: datetime) -> int:
    return int((later - earlier).total_seconds() // 86400)


def clock_values(
    *, first_visit_at: datetime, last_visit_at: datetime, visits: int, as_of: datetime
) -> dict[str, float | int]:
    """recency_days, tenure_days and visits_per_month as of `as_of` (see features)."""
    tenure = _floor_days(as_of, first_visit_at)
    months = max(tenure / DAYS_PER_MONTH, 1.0)
    return {
        "recency_days": _floor_days(as_of, last_visit_at),
        "tenure_days": tenure,
        "visits_per_month": visits / months,
    }


def percent_rank(*, below: int, total: int) -> float:
    """The share of the other members below this one (0 for a lone member)."""
    return below / (total - 1) if total > 1 else 0.0


def quarter_label(quarter_key: int) -> str:
    """20263 -> "2026Q3"."""
    return f"{quarter_key // 10}Q{quarter_key % 10}"
