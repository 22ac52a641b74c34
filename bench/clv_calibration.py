"""Forecast against actual repeat visits in a holdout period: memberops and lifetimes
fitted on the same calibration summary.

    uv sync --frozen --group bench
    uv run python bench/clv_calibration.py [--demo-home ~/.memberops]

1. The full CDNOW cohort (23,570 customers, tests/clv/data/CDNOW_master.txt): calibration
   1997-01-01..1997-09-30, holdout to 1998-06-30, as in Fader, Hardie and Lee (2005).
2. The demo chain in the database under --demo-home (run `memberops demo --no-serve`
   first): the last 180 days are the holdout.

Time is in days; purchases on one day are one visit. Printed: total forecast and actual
holdout repeat visits, and per number of calibration repeat visits (0..7+) the mean
forecast and actual (the paper's conditional-expectation check).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from memberops.clv import BetaGeo, split_calibration_holdout

DATA = Path(__file__).resolve().parents[1] / "tests" / "clv" / "data"


def compare(split: pd.DataFrame, label: str) -> dict[str, object]:
    """Fit both libraries on the calibration columns; forecast the holdout."""
    x, t_x, big_t = split["frequency"], split["recency"], split["T"]
    horizon = float(split["duration_holdout"].iloc[0])
    ours = BetaGeo().fit(x, t_x, big_t)
    forecast = ours.conditional_expected_purchases(horizon, x, t_x, big_t)
    result: dict[str, object] = {
        "data": label,
        "customers": len(split),
        "holdout_days": horizon,
        "actual_total": float(split["frequency_holdout"].sum()),
        "memberops": {
            "params": ours.params,
            "log_likelihood": ours.log_likelihood,
            "forecast_total": float(forecast.sum()),
        },
    }
    buckets = np.minimum(x.to_numpy(), 7).astype(int)
    table = pd.DataFrame(
        {"bucket": buckets, "actual": split["frequency_holdout"], "memberops": forecast}
    )
    try:
        from lifetimes import BetaGeoFitter
    except ImportError as exc:
        result["lifetimes"] = {"error": str(exc)}
    else:
        theirs = BetaGeoFitter().fit(x, t_x, big_t)
        their_forecast = theirs.conditional_expected_number_of_purchases_up_to_time(
            horizon, x, t_x, big_t
        ).to_numpy()
        result["lifetimes"] = {
            "params": {k: float(v) for k, v in theirs.params_.items()},
            "forecast_total": float(their_forecast.sum()),
        }
        table["lifetimes"] = their_forecast
    by_bucket = table.groupby("bucket").agg(["mean"]).droplevel(1, axis=1)
    by_bucket["customers"] = table.groupby("bucket").size()
    result["by_calibration_repeat_visits"] = by_bucket.round(3).reset_index().to_dict("records")
    return result


def cdnow() -> dict[str, object]:
    """The full cohort, 39 + 39 weeks."""
    raw = pd.read_csv(
        DATA / "CDNOW_master.txt",
        sep=r"\s+",
        header=None,
        skiprows=1,
        names=["customer_id", "date", "cds", "dollars"],
        dtype={"customer_id": str, "date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d", utc=True)
    split = split_calibration_holdout(
        raw,
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        customer_column="customer_id",
        time_column="date",
    )
    return compare(split, "CDNOW full cohort (CDNOW_master.txt)")


def demo(home: Path) -> dict[str, object]:
    """The demo chain in `home`, holdout = the last 180 days before its last order."""
    os.environ["MEMBEROPS_HOME"] = str(home)
    from memberops.clv.repository import counted_visits
    from memberops.config import Settings
    from memberops.db import transaction
    from memberops.runtime import open_runtime

    runtime = open_runtime(Settings.from_env())
    try:
        with transaction(runtime.sessions) as session:
            visits = counted_visits(session, until=datetime(2100, 1, 1, tzinfo=UTC))
    finally:
        runtime.close()
    end = visits["ordered_at"].max().to_pydatetime()
    split = split_calibration_holdout(
        visits,
        calibration_end=end - timedelta(days=180),
        observation_end=end,
        customer_column="member_id",
        time_column="ordered_at",
    )
    return compare(split, f"demo chain ({home})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo-home", type=Path, default=None)
    args = parser.parse_args()
    reports = [cdnow()]
    if args.demo_home is not None:
        reports.append(demo(args.demo_home))
    print(json.dumps(reports, indent=2, default=float))


if __name__ == "__main__":
    main()
