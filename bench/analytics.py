"""Every chain analysis on DuckDB at chain scale: 1M members, about 20M order lines.

    uv run python bench/analytics.py [--members 1000000] [--lines 20000000] [--data DIR]

A synthetic chain (`memberops.pipeline.synthetic`: two years, 20 stores, about three lines
per order, so `--lines 20000000` is about 6.7M orders) is generated once to Parquet
(`--data DIR` keeps it for the next run). Each analysis then runs in its own process (so
its peak memory is its own) on an in-memory DuckDB, over tables read before its clock
starts, and does what its service does up to the rows it would store: the engine
definition to Arrow and the pure rules after it (RFM with segments; the concentration
curve, Gini and top share of every scope; lifecycle states, flows and cohorts; fan levels
with communication power; lifestyle trait scores; the store mix; the CLV fit and every
member's score; purchase cycles and the due list). Writing the serving tables is not
timed (it depends on the database). Dish combinations have their own benchmark
(`bench/baskets.py`).

The store mix reads the pipeline's stored per-member metrics; they are computed with the
pipeline's definition when the chain is generated. Prints JSON: seconds, rows out and
peak RSS per analysis, the load average when it started, and the total.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from peak import peak_rss_mib

from memberops.clv.service import ClvConfig, fit_summary, score_summary
from memberops.clv.summary import summarise_transactions
from memberops.concentration.features import member_spend
from memberops.concentration.rules import concentration as measure_concentration
from memberops.cycles.rules import visit_cycles
from memberops.fans.features import EVENTS_SCHEMA, HOLDERS_SCHEMA
from memberops.fans.rules import FanConfig
from memberops.fans.service import score_fans
from memberops.lifecycle.rules import LifecycleConfig
from memberops.lifecycle.service import compute_lifecycle
from memberops.lifestyle.features import ITEM_TRAITS_SCHEMA, trait_scores
from memberops.lifestyle.rules import has_trait
from memberops.pipeline import engines
from memberops.pipeline.synthetic import synthetic_inputs
from memberops.rfm.features import rfm_scores
from memberops.storemix.features import store_segments, store_traits

AS_OF = datetime(2026, 1, 1)
TRAITS = {"family": range(0, 6), "health": range(6, 14), "premium": range(100, 120)}


def synthetic_events(members: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """Shares, referrals and reviews by a tenth of the members; half the referred phones
    became members (the holders table)."""
    rng = np.random.default_rng(seed)
    n = max(members // 10, 10)
    kind = np.array(["share", "referral", "review"], dtype=object)[rng.integers(0, 3, n)]
    who = rng.integers(0, members, n)
    referred = rng.integers(0, members, n)
    at = np.datetime64("2024-01-01", "us") + rng.integers(0, 730 * 86_400, n).astype(
        "timedelta64[s]"
    )
    is_ref = kind == "referral"
    events = pa.table(
        {
            "event_id": [f"e{i:09d}" for i in range(n)],
            "type": kind,
            "member_id": [f"m{m:010d}" for m in who],
            "occurred_at": pa.array(at, pa.timestamp("us")),
            "referred_identifier_id": [
                f"id{r:010d}" if ref else None for r, ref in zip(referred, is_ref, strict=True)
            ],
        },
        schema=EVENTS_SCHEMA,
    )
    held = np.unique(referred[is_ref & (rng.random(n) < 0.5)])
    holders = pa.table(
        {"identifier_id": [f"id{r:010d}" for r in held], "member_id": [f"m{r:010d}" for r in held]},
        schema=HOLDERS_SCHEMA,
    )
    return events, holders


def item_traits() -> pa.Table:
    """A lifestyle mapping over the synthetic menu: a few items signal each trait."""
    rows = [(f"i{i:010d}", trait) for trait, items in TRAITS.items() for i in items]
    return pa.table(
        {"item_id": [r[0] for r in rows], "trait": [r[1] for r in rows]},
        schema=ITEM_TRAITS_SCHEMA,
    )


ANALYSES = (
    "rfm_chain",
    "rfm_per_store",
    "concentration",
    "lifecycle",
    "fans",
    "lifestyle",
    "storemix",
    "clv",
    "cycles",
)
TABLES = ("orders", "lines", "events", "holders", "metrics")


def generate(directory: Path, members: int, lines: int) -> dict[str, int]:
    """Write the synthetic chain, its events and the pipeline's metrics to Parquet."""
    inputs = synthetic_inputs(members=members, orders=lines // 3, stores=20, items=120)
    events, holders = synthetic_events(members, seed=3)
    con = engines.connect("duckdb")
    bound = engines.bind_inputs(con, inputs)
    metrics = con.to_pyarrow(engines.member_feature_exprs(bound, con=con)["metrics"])
    con.disconnect()
    tables = {
        "orders": inputs.orders,
        "lines": inputs.lines,
        "events": events,
        "holders": holders,
        "metrics": metrics,
    }
    for name, table in tables.items():
        pq.write_table(table, directory / f"{name}.parquet")
    return {"orders": inputs.orders.num_rows, "lines": inputs.lines.num_rows}


def analysis(name: str, data: dict[str, pa.Table]) -> Callable[[], int]:
    """The work of one analysis on `data` (read before the clock starts)."""
    con = engines.connect("duckdb")
    orders = engines.bind_table(con, "orders", data["orders"])

    def rfm_chain() -> int:
        return int(con.to_pyarrow(rfm_scores(orders, AS_OF)).num_rows)

    def rfm_per_store() -> int:
        return int(con.to_pyarrow(rfm_scores(orders, AS_OF, by_store=True)).num_rows)

    def concentration() -> int:
        table = con.to_pyarrow(member_spend(orders, AS_OF))
        scope = table.column("scope").combine_chunks().dictionary_encode()
        codes = scope.indices.to_numpy()
        spends = table.column("spend_cents").to_numpy()
        for code in range(len(scope.dictionary)):
            measure_concentration(spends[codes == code].tolist())
        return int(table.num_rows)

    def lifecycle() -> int:
        states, _flows, _cohorts, _points = compute_lifecycle(con, orders, AS_OF, LifecycleConfig())
        return 0 if states is None else int(states.num_rows)

    def fans() -> int:
        return len(
            score_fans(
                con,
                orders,
                engines.bind_table(con, "fan_events", data["events"]),
                engines.bind_table(con, "fan_holders", data["holders"]),
                as_of=AS_OF.replace(tzinfo=UTC),
                config=FanConfig(),
            )
        )

    def lifestyle() -> int:
        since = AS_OF - timedelta(days=365)
        window = orders.filter((orders.ordered_at >= since) & (orders.ordered_at < AS_OF)).select(
            "order_id", "member_id"
        )
        lines = engines.bind_table(con, "lifestyle_lines_raw", data["lines"])
        member_lines = lines.join(window, "order_id").select(
            "member_id", "item_id", "quantity", "line_total_cents"
        )
        traits = engines.bind_table(con, "lifestyle_item_traits", item_traits())
        scored = con.to_pyarrow(trait_scores(member_lines, traits, basis="spend"))
        held = [has_trait(s, 0.2) for s in scored.column("score").to_pylist()]
        return len(held)

    def storemix() -> int:
        metrics_table = data["metrics"]
        metrics = engines.bind_table(con, "storemix_metrics", metrics_table)
        member_traits = pa.table(
            {
                "member_id": metrics_table.column("member_id"),
                "trait": pa.array(
                    np.array(list(TRAITS), dtype=object)[
                        np.arange(metrics_table.num_rows) % len(TRAITS)
                    ]
                ),
            }
        )
        traits = engines.bind_table(con, "storemix_traits", member_traits)
        segments = con.to_pyarrow(store_segments(metrics, AS_OF))
        per_trait = con.to_pyarrow(store_traits(metrics, traits))
        return int(segments.num_rows + per_trait.num_rows)

    # What the CLV and cycle services read from the database (one row per order), built
    # before the clock starts like every other analysis's input.
    visits_frame = pd.DataFrame()
    if name in ("clv", "cycles"):
        visits_frame = data["orders"].select(["member_id", "ordered_at", "net_cents"]).to_pandas()
        visits_frame["ordered_at"] = visits_frame["ordered_at"].dt.tz_localize("UTC")

    def clv() -> int:
        summary = summarise_transactions(
            visits_frame,
            customer_column="member_id",
            time_column="ordered_at",
            monetary_column="net_cents",
            observation_end=AS_OF.replace(tzinfo=UTC),
        )
        beta_geo, gamma_gamma = fit_summary(summary)
        return len(score_summary(summary, beta_geo, gamma_gamma, ClvConfig()))

    def cycles() -> int:
        return len(visit_cycles(visits_frame, as_of=AS_OF.replace(tzinfo=UTC)))

    work: dict[str, Callable[[], int]] = {
        "rfm_chain": rfm_chain,
        "rfm_per_store": rfm_per_store,
        "concentration": concentration,
        "lifecycle": lifecycle,
        "fans": fans,
        "lifestyle": lifestyle,
        "storemix": storemix,
        "clv": clv,
        "cycles": cycles,
    }
    return work[name]


def worker(name: str, directory: Path) -> None:
    """Run one analysis in this process and print its seconds, rows and peak memory."""
    data = {t: pq.read_table(directory / f"{t}.parquet") for t in TABLES}
    work = analysis(name, data)
    start = time.perf_counter()
    rows = work()
    seconds = time.perf_counter() - start
    peak = round(peak_rss_mib())
    print(json.dumps({"seconds": round(seconds, 2), "rows": rows, "peak_rss_mib": peak}))


def main() -> None:
    """Generate the chain once, then run each analysis in its own process."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=20_000_000)
    parser.add_argument("--only", default=",".join(ANALYSES))
    parser.add_argument("--data", type=Path, help="reuse (or keep) the generated Parquet here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data)
        return
    unknown = sorted(set(args.only.split(",")) - set(ANALYSES))
    if unknown:
        parser.error(
            f"--only: unknown analysis {', '.join(unknown)}; choose from {', '.join(ANALYSES)}"
        )
    directory = args.data or Path(tempfile.mkdtemp(prefix="memberops-analytics-"))
    directory.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if not (directory / "metrics.parquet").exists():
        sizes = generate(directory, args.members, args.lines)
    else:
        sizes = {t: pq.ParquetFile(directory / f"{t}.parquet").metadata.num_rows for t in TABLES}
    generate_s = time.perf_counter() - t0
    out: dict[str, dict[str, Any]] = {}
    for name in args.only.split(","):
        load = os.getloadavg()[0]
        done = subprocess.run(
            [sys.executable, __file__, "--worker", name, "--data", str(directory)],
            check=True,
            capture_output=True,
            text=True,
        )
        out[name] = {**json.loads(done.stdout.strip().splitlines()[-1]), "load": round(load, 1)}
        print(f"{name}: {out[name]}", file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "members": args.members,
                **sizes,
                "generate_seconds": round(generate_s, 1),
                "analyses": out,
                "total_seconds": round(sum(float(v["seconds"]) for v in out.values()), 2),
                "max_peak_rss_mib": max(v["peak_rss_mib"] for v in out.values()),
                "machine": f"{platform.machine()}, {platform.python_version()}",
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
