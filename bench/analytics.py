"""RFM, revenue concentration and lifecycle on DuckDB at chain scale.

    uv run python bench/analytics.py [--members 1000000] [--orders 7000000]

A synthetic chain (`memberops.pipeline.synthetic`, two years of orders) is bound to an
in-memory DuckDB; each analysis runs its engine definition to Arrow, then the pure rules
that follow it in the service (segments are joined in the engine; the concentration math
runs in Python over every scope). Writing the serving tables is not timed (it depends on
the database). Prints JSON: seconds per analysis, rows out, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from collections import defaultdict
from datetime import datetime

from memberops.concentration.features import member_spend
from memberops.concentration.rules import concentration_curve, gini, top_share
from memberops.lifecycle.features import (
    cohort_retention,
    lifecycle_states,
    monthly_flows,
    points_table,
    visit_days,
)
from memberops.lifecycle.rules import evaluation_points
from memberops.pipeline import engines
from memberops.pipeline.synthetic import synthetic_inputs
from memberops.rfm.features import rfm_scores

AS_OF = datetime(2026, 1, 1)


def main() -> None:
    """Run each analysis once and print its timing."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=7_000_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    inputs = synthetic_inputs(members=args.members, orders=args.orders, stores=20, items=120)
    generate_s = time.perf_counter() - t0
    con = engines.connect("duckdb")
    orders = engines.bind_table(con, "orders", inputs.orders)
    out: dict[str, dict[str, float | int]] = {}

    def timed(name: str, work: object) -> None:
        start = time.perf_counter()
        rows = work()  # type: ignore[operator]
        out[name] = {"seconds": round(time.perf_counter() - start, 2), "rows": rows}

    timed("rfm_chain", lambda: con.to_pyarrow(rfm_scores(orders, AS_OF)).num_rows)
    timed(
        "rfm_per_store",
        lambda: con.to_pyarrow(rfm_scores(orders, AS_OF, by_store=True)).num_rows,
    )

    def concentration() -> int:
        table = con.to_pyarrow(member_spend(orders, AS_OF))
        by_scope: dict[str, list[int]] = defaultdict(list)
        for scope, spend in zip(
            table.column("scope").to_pylist(), table.column("spend_cents").to_pylist(), strict=True
        ):
            by_scope[scope].append(spend)
        for spends in by_scope.values():
            gini(spends), top_share(spends), concentration_curve(spends)
        return table.num_rows

    timed("concentration", concentration)

    def lifecycle() -> int:
        days = visit_days(orders, AS_OF)
        first = con.to_pyarrow(days.aggregate(first=days.business_date.min())).column(0)[0]
        states = lifecycle_states(
            days, points_table(evaluation_points(first.as_py(), AS_OF.date()))
        )
        n = con.to_pyarrow(states).num_rows
        con.to_pyarrow(monthly_flows(states))
        con.to_pyarrow(cohort_retention(days))
        return n

    timed("lifecycle", lifecycle)
    print(
        json.dumps(
            {
                "members": args.members,
                "orders": inputs.orders.num_rows,
                "generate_seconds": round(generate_s, 1),
                "analyses": out,
                "total_seconds": round(sum(float(v["seconds"]) for v in out.values()), 2),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "machine": f"{platform.machine()}, {platform.python_version()}",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
