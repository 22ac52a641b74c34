"""Association rules on 1M baskets at min support 0.005: memberops, mlxtend, rusket.

    uv run python bench/baskets.py [--orders 1000000] [--rusket-python /tmp/rusket-venv/bin/python]

Every tool starts from the same order lines, (order_id, item_id) rows as a pandas frame
read from Parquet, and its time includes building its own input from them: memberops
reads the rows directly; mlxtend needs a one-hot frame; rusket builds its own with
`rusket.from_transactions`. rusket is not a project dependency: it runs in a separate
virtual environment given by --rusket-python (skipped when absent). Itemsets are compared
as sets of (items, count).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from basket_data import synthetic_order_lines

from memberops.baskets import association_rules, frequent_itemsets

RUSKET_SCRIPT = """
import json, sys, time
import pandas as pd
import rusket
path, min_support, method, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
lines = pd.read_parquet(path)
n = lines["order_id"].nunique()
start = time.perf_counter()
onehot = rusket.from_transactions(lines, transaction_col="order_id", item_col="item_id")
built = time.perf_counter()
found = rusket.fpgrowth(onehot, min_support=min_support, use_colnames=True, method=method)
mined = time.perf_counter()
rules = rusket.association_rules(found, num_itemsets=n, metric="confidence", min_threshold=0.0)
ruled = time.perf_counter()
json.dump({
    "build_seconds": built - start, "mine_seconds": mined - built,
    "rules_seconds": ruled - mined, "rules": len(rules),
    "itemsets": [
        [sorted(map(str, s)), round(float(p) * n)]
        for s, p in zip(found["itemsets"], found["support"])
    ],
}, open(out, "w"))
"""


def _itemset_keys(itemsets: list[list[object]]) -> set[tuple[tuple[str, ...], int]]:
    return {(tuple(sorted(str(i) for i in items)), int(count)) for items, count in itemsets}  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--min-support", type=float, default=0.005)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rusket-python", default="/tmp/rusket-venv/bin/python")  # noqa: S108
    parser.add_argument("--skip-mlxtend", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-baskets-"))
    lines_path = workdir / "lines.parquet"
    synthetic_order_lines(args.orders).to_parquet(lines_path)
    lines = pd.read_parquet(lines_path)
    result: dict[str, object] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.platform()}; Python {platform.python_version()}",
        "orders": args.orders,
        "lines": len(lines),
        "distinct_items": int(lines["item_id"].nunique()),
        "min_support": args.min_support,
    }

    times, rule_times = [], []
    ours = frequent_itemsets(lines.head(1000), 0.5, basket_column="order_id", item_column="item_id")
    rules = association_rules(ours, min_threshold=0.0) if len(ours) else None
    for _ in range(args.runs):
        start = time.perf_counter()
        ours = frequent_itemsets(
            lines, args.min_support, basket_column="order_id", item_column="item_id"
        )
        mined = time.perf_counter()
        rules = association_rules(ours, min_threshold=0.0)
        rule_times.append(time.perf_counter() - mined)
        times.append(mined - start)
    ours_keys = _itemset_keys(
        [[list(s), c] for s, c in zip(ours["itemsets"], ours["count"], strict=True)]
    )
    result["memberops"] = {
        "itemsets_seconds": sorted(times),
        "median_itemsets_seconds": float(np.median(times)),
        "median_rules_seconds": float(np.median(rule_times)),
        "itemsets": len(ours),
        "rules": 0 if rules is None else len(rules),
    }

    rusket_python = Path(args.rusket_python)
    if rusket_python.exists():
        runs = {}
        for method in ("fpgrowth", "eclat"):
            samples = []
            for _ in range(args.runs):
                out = workdir / f"rusket-{method}.json"
                subprocess.run(
                    [
                        str(rusket_python),
                        "-c",
                        RUSKET_SCRIPT,
                        str(lines_path),
                        str(args.min_support),
                        method,
                        str(out),
                    ],
                    check=True,
                )
                samples.append(json.loads(out.read_text()))
            totals = [s["build_seconds"] + s["mine_seconds"] for s in samples]
            runs[method] = {
                "itemsets_seconds_with_input": sorted(totals),
                "median_itemsets_seconds_with_input": float(np.median(totals)),
                "median_build_seconds": float(np.median([s["build_seconds"] for s in samples])),
                "median_rules_seconds": float(np.median([s["rules_seconds"] for s in samples])),
                "itemsets": len(samples[-1]["itemsets"]),
                "same_itemsets_and_counts": _itemset_keys(samples[-1]["itemsets"]) == ours_keys,
            }
        result["rusket"] = runs
        best = min(r["median_itemsets_seconds_with_input"] for r in runs.values())
        result["speedup_vs_rusket_fastest"] = best / float(np.median(times))
    else:
        result["rusket"] = {"error": f"{rusket_python} not found"}

    if not args.skip_mlxtend:
        from mlxtend.frequent_patterns import fpgrowth

        start = time.perf_counter()
        # The fastest one-hot build we know (codes into a dense boolean matrix); mlxtend's
        # TransactionEncoder and pandas' crosstab take far longer on a million orders.
        order_codes, _ = pd.factorize(lines["order_id"])
        item_codes, item_names = pd.factorize(lines["item_id"])
        dense = np.zeros((order_codes.max() + 1, len(item_names)), dtype=bool)
        dense[order_codes, item_codes] = True
        onehot = pd.DataFrame(dense, columns=list(item_names))
        built = time.perf_counter()
        found = fpgrowth(onehot, min_support=args.min_support, use_colnames=True)
        mined = time.perf_counter()
        n = len(onehot)
        theirs = _itemset_keys(
            [
                [list(s), round(p * n)]
                for s, p in zip(found["itemsets"], found["support"], strict=True)
            ]
        )
        result["mlxtend"] = {
            "build_seconds": built - start,
            "mine_seconds": mined - built,
            "itemsets_seconds_with_input": mined - start,
            "itemsets": len(found),
            "same_itemsets_and_counts": theirs == ours_keys,
        }
        result["speedup_vs_mlxtend"] = (mined - start) / float(np.median(times))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
