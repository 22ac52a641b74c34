"""BG/NBD fit on a 1M-customer synthetic summary: memberops against lifetimes.

    uv sync --frozen --group bench && uv run python bench/clv.py [--customers 1000000]

Both fit the same rows. lifetimes runs in its fastest mode: identical rows collapsed
beforehand and passed with weights (its Nelder-Mead fit on a million raw rows takes far
longer). memberops collapses rows itself, so its time includes that step. Recency and T
are whole days, as the live chain summarises them. Both fits' log-likelihoods are then
computed the same way, per customer at each fit's parameters and summed exactly (fsum),
so the comparison is not blurred by summation order. The two optima agree to about one
unit in the last place of such a sum, so the script also gives the difference from the
local quadratic model at memberops' optimum, g.d + d'Hd/2 with d the step to lifetimes'
parameters: a difference of derivatives, free of the rounding of two large totals.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from datetime import UTC, datetime

import numpy as np

from memberops.clv import BetaGeo
from memberops.clv.estimators import collapse_rows
from memberops.clv.likelihood import BetaGeoWeighted
from memberops.clv.simulate import simulate_beta_geo

TRUTH = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426}


def synthetic_summary(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers acquired over two years, observed to today, in whole days."""
    rng = np.random.default_rng(seed)
    observed = rng.integers(30, 730, size=n).astype(np.float64)
    x, recency, big_t = simulate_beta_geo(n, T=observed, seed=seed + 1, **TRUTH)
    return x, np.floor(recency), big_t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    x, recency, big_t = synthetic_summary(args.customers, args.seed)
    ours_times, ours_ll = [], 0.0
    ours = BetaGeo()
    for _ in range(args.runs):
        start = time.perf_counter()
        ours = BetaGeo().fit(x, recency, big_t)
        ours_times.append(time.perf_counter() - start)
        ours_ll = ours.log_likelihood

    ours_result: dict[str, object] = {
        "seconds": sorted(ours_times),
        "median_seconds": float(np.median(ours_times)),
        "log_likelihood": ours_ll,
        "params": ours.params,
        "iterations": ours.iterations_,
    }
    result: dict[str, object] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.platform()}; Python {platform.python_version()}",
        "customers": args.customers,
        "distinct_rows": ours.n_distinct_rows_,
        "truth": TRUTH,
        "memberops": ours_result,
    }
    try:
        from lifetimes import BetaGeoFitter
    except ImportError as exc:  # the bench group is not installed
        result["lifetimes"] = {"error": f"lifetimes not importable: {exc}"}
    else:
        start = time.perf_counter()
        (cx, crec, ct), weights = collapse_rows([x, recency, big_t])
        collapse_seconds = time.perf_counter() - start
        times = []
        fitter = BetaGeoFitter()
        for _ in range(args.runs):
            start = time.perf_counter()
            fitter = BetaGeoFitter().fit(cx, crec, ct, weights=weights)
            times.append(time.perf_counter() - start)
        params = {k: float(v) for k, v in fitter.params_.items()}
        # lifetimes keeps the weighted mean negative log-likelihood; both totals are taken
        # here from the same per-customer function.
        theirs_ll = math.fsum(
            BetaGeo.from_dict({"model": "BetaGeo", "format_version": 1, "params": params})
            .log_likelihood_of(x, recency, big_t)
            .tolist()
        )
        ours_ll = math.fsum(ours.log_likelihood_of(x, recency, big_t).tolist())
        ours_result["log_likelihood_fsum"] = ours_ll
        result["lifetimes"] = {
            "seconds": sorted(times),
            "median_seconds": float(np.median(times)),
            "collapse_seconds": collapse_seconds,
            "log_likelihood_fsum": theirs_ll,
            "params": params,
        }
        result["speedup"] = float(np.median(times)) / float(np.median(ours_times))
        result["log_likelihood_difference"] = ours_ll - theirs_ll
        names = ("r", "alpha", "a", "b")
        at_ours = np.array([ours.params[k] for k in names])
        step = np.array([params[k] for k in names]) - at_ours
        _, gradient, hessian = BetaGeoWeighted(cx, crec, ct, weights).evaluate(
            (at_ours[0], at_ours[1], at_ours[2], at_ours[3])
        )
        assert hessian is not None
        result["log_likelihood_difference_quadratic"] = -float(
            gradient @ step + 0.5 * step @ hessian @ step
        )
        ours_result["gradient_at_fit"] = gradient.tolist()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
