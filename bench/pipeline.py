"""Member 360 pipeline benchmark: one command, every contender in one run.

    uv run python bench/pipeline.py [--lines 1000000,5000000,20000000] [--spark-lines 1000000]

For each size a synthetic chain (about 3 lines per order, 1 member per 20 lines) is
written straight to Parquet; each contender then runs in its own process (so peak memory
is its own) and reads that Parquet:

- pipeline-full: every member and chain feature of the pipeline on DuckDB;
- pipeline-core / duckdb-sql / pandas / polars: the same core features (visits, member
  totals, visits per store ranked, top-5 dishes with recency decay) written once per tool;
- scan: a bare DuckDB scan of the columns those features read (the floor);
- incremental: the pipeline after 1% new orders: the affected members' features plus the
  chain-wide store profiles over every member's metrics;
- spark: pipeline-full on Spark local[2] (smallest size only).
Results are printed as JSON and as a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from peak import peak_rss_mib

from memberops import clock
from memberops.pipeline import engines, features
from memberops.pipeline.synthetic import synthetic_inputs

TABLES = ("orders", "lines", "modifiers", "needs", "members")
LN2_HALF_LIFE = math.log(2) / features.DISH_HALF_LIFE_DAYS
AS_OF = datetime(2026, 1, 1)


def generate(directory: Path, lines: int) -> dict[str, int]:
    """Write a synthetic chain of about `lines` order lines to `directory`."""
    orders = lines // 3
    members = max(lines // 20, 100)
    inputs = synthetic_inputs(members=members, orders=orders, stores=200, items=400, seed=1)
    directory.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        pq.write_table(getattr(inputs, name), directory / f"{name}.parquet")
    return {"members": members, "orders": inputs.orders.num_rows, "lines": inputs.lines.num_rows}


# ------------------------------------------------------------------ contenders (workers)
def _duck_inputs(con: Any, d: Path) -> engines.BoundInputs:
    """The Parquet files as DuckDB views: the pipeline reads each input about once (its
    shared intermediates are materialised), as the hand-written SQL does."""
    return engines.BoundInputs(**{n: con.read_parquet(d / f"{n}.parquet") for n in TABLES})


def run_pipeline_full(d: Path) -> dict[str, int]:
    con = engines.connect("duckdb")
    bound = _duck_inputs(con, d)
    out = engines.execute(con, engines.member_feature_exprs(bound, con=con))
    metrics = engines.bind_table(con, "metrics", out["metrics"])
    out.update(engines.execute(con, engines.chain_feature_exprs(metrics, AS_OF)))
    return {k: v.num_rows for k, v in out.items()}


def run_pipeline_core(d: Path) -> dict[str, int]:
    con = engines.connect("duckdb")
    b = _duck_inputs(con, d)
    # Visits once, as the pipeline's full run does; the dish lines are read once here.
    local = engines.materialise(con, features.local_orders(b.orders))
    v = engines.materialise(con, features.visits(local))
    summary = con.to_pyarrow(features.member_summary(v))
    stores = con.to_pyarrow(features.member_store_visits(v))
    dq = features.dish_quarters(features.member_lines(local, b.lines))
    dishes = con.to_pyarrow(features.top_dishes(dq))
    return {
        "members": summary.num_rows,
        "visits": int(summary.column("visits").to_numpy().sum()),
        "store_rows": stores.num_rows,
        "dish_rows": dishes.num_rows,
    }


CORE_SQL_VISITS = """
CREATE TEMP TABLE v AS
WITH o AS (
  SELECT *, CAST(ordered_at + to_minutes(utc_offset_minutes) - INTERVAL 4 HOUR AS DATE) AS bdate
  FROM read_parquet('{d}/orders.parquet')
)
SELECT member_id, store_id, bdate, meal_type, min(ordered_at) AS started_at,
       max(ordered_at) AS ended_at, count(*) AS n_orders,
       max(coalesce(party_size, 1)) AS party, sum(net_cents) AS net
FROM o GROUP BY ALL
"""
CORE_SQL_SUMMARY = """
SELECT member_id, sum(n_orders) AS orders, count(*) AS visits, sum(net) AS spend,
       min(started_at) AS first_at, max(ended_at) AS last_at, sum(party) AS persons,
       count(DISTINCT store_id) AS stores,
       sum(net) // sum(n_orders) AS avg_ticket, sum(net) // sum(party) AS per_person
FROM v GROUP BY member_id
"""
CORE_SQL_STORES = """
SELECT member_id, store_id, count(*) AS visits, sum(net) AS spend, max(started_at) AS last_at,
       row_number() OVER (PARTITION BY member_id ORDER BY count(*) DESC, max(started_at) DESC,
                          store_id) AS rank
FROM v GROUP BY member_id, store_id
"""
CORE_SQL_DISHES = """
WITH o AS (
  SELECT order_id, member_id, ordered_at,
         CAST(ordered_at + to_minutes(utc_offset_minutes) - INTERVAL 4 HOUR AS DATE) AS bdate
  FROM read_parquet('{d}/orders.parquet')
),
items AS (
  SELECT o.member_id, l.item_id, sum(l.quantity) AS quantity,
         count(DISTINCT l.order_id) AS orders, max(o.ordered_at) AS last_at,
         round(sum(l.quantity * exp(date_diff('day', DATE '2020-01-01', o.bdate) * {k})), 6)
           AS score
  FROM read_parquet('{d}/lines.parquet') l JOIN o USING (order_id)
  GROUP BY o.member_id, l.item_id
)
SELECT * FROM (
  SELECT *, row_number() OVER (PARTITION BY member_id
                               ORDER BY score DESC, quantity DESC, last_at DESC, item_id) AS rank
  FROM items) WHERE rank <= 5
"""


def run_duckdb_sql(d: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    # Visits once in a temporary table, then each result as Arrow, as the pipeline
    # (and pandas and polars, whose results are frames in memory) produce them.
    con.execute(CORE_SQL_VISITS.format(d=d))
    summary = con.sql(CORE_SQL_SUMMARY).to_arrow_table()
    stores = con.sql(CORE_SQL_STORES).to_arrow_table()
    dishes = con.sql(CORE_SQL_DISHES.format(d=d, k=LN2_HALF_LIFE)).to_arrow_table()
    return {
        "members": summary.num_rows,
        "visits": int(summary.column("visits").to_numpy().sum()),
        "store_rows": stores.num_rows,
        "dish_rows": dishes.num_rows,
    }


def run_scan(d: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    o = con.execute(
        f"SELECT count(DISTINCT member_id), sum(net_cents), max(ordered_at), sum(party_size),"
        f" count(DISTINCT store_id), count(DISTINCT meal_type), sum(utc_offset_minutes)"
        f" FROM read_parquet('{d}/orders.parquet')"
    ).fetchall()[0]
    li = con.execute(
        f"SELECT count(DISTINCT order_id), count(DISTINCT item_id), sum(quantity)"
        f" FROM read_parquet('{d}/lines.parquet')"
    ).fetchall()[0]
    return {"members": o[0], "lines_orders": li[0]}


def run_pandas(d: Path) -> dict[str, int]:
    import numpy as np
    import pandas as pd

    o = pd.read_parquet(d / "orders.parquet")
    li = pd.read_parquet(d / "lines.parquet")
    local = o["ordered_at"] + pd.to_timedelta(o["utc_offset_minutes"], unit="m")
    o["bdate"] = (local - pd.Timedelta(hours=4)).dt.floor("D")
    o["party"] = o["party_size"].fillna(1)
    v = (
        o.groupby(["member_id", "store_id", "bdate", "meal_type"], sort=False)
        .agg(
            started_at=("ordered_at", "min"),
            ended_at=("ordered_at", "max"),
            n_orders=("order_id", "size"),
            party=("party", "max"),
            net=("net_cents", "sum"),
        )
        .reset_index()
    )
    s = v.groupby("member_id", sort=False).agg(
        orders=("n_orders", "sum"),
        visits=("n_orders", "size"),
        spend=("net", "sum"),
        first_at=("started_at", "min"),
        last_at=("ended_at", "max"),
        persons=("party", "sum"),
    )
    s["avg_ticket"] = s["spend"] // s["orders"]
    s["per_person"] = s["spend"] // s["persons"]
    sv = (
        v.groupby(["member_id", "store_id"], sort=False)
        .agg(visits=("n_orders", "size"), spend=("net", "sum"), last_at=("started_at", "max"))
        .reset_index()
        .sort_values(
            ["member_id", "visits", "last_at", "store_id"], ascending=[True, False, False, True]
        )
    )
    sv["rank"] = sv.groupby("member_id").cumcount() + 1
    j = li.merge(o[["order_id", "member_id", "bdate", "ordered_at"]], on="order_id")
    days = (j["bdate"] - pd.Timestamp("2020-01-01")).dt.days.to_numpy()
    j["w"] = j["quantity"].to_numpy() * np.exp(days * LN2_HALF_LIFE)
    items = (
        j.groupby(["member_id", "item_id"], sort=False)
        .agg(
            quantity=("quantity", "sum"),
            orders=("order_id", "nunique"),
            last_at=("ordered_at", "max"),
            score=("w", "sum"),
        )
        .reset_index()
    )
    items["score"] = items["score"].round(6)
    items = items.sort_values(
        ["member_id", "score", "quantity", "last_at", "item_id"],
        ascending=[True, False, False, False, True],
    )
    items["rank"] = items.groupby("member_id").cumcount() + 1
    dishes = items[items["rank"] <= 5]
    return {
        "members": len(s),
        "visits": int(s["visits"].sum()),
        "store_rows": len(sv),
        "dish_rows": len(dishes),
    }


def run_polars(d: Path) -> dict[str, int]:
    import polars as pl

    o = pl.scan_parquet(d / "orders.parquet").with_columns(
        bdate=(
            pl.col("ordered_at")
            + pl.duration(minutes=pl.col("utc_offset_minutes"))
            - pl.duration(hours=4)
        ).dt.date(),
        party=pl.col("party_size").fill_null(1),
    )
    v = o.group_by(["member_id", "store_id", "bdate", "meal_type"]).agg(
        started_at=pl.col("ordered_at").min(),
        ended_at=pl.col("ordered_at").max(),
        n_orders=pl.len(),
        party=pl.col("party").max(),
        net=pl.col("net_cents").sum(),
    )
    s = (
        v.group_by("member_id")
        .agg(
            orders=pl.col("n_orders").sum(),
            visits=pl.len(),
            spend=pl.col("net").sum(),
            first_at=pl.col("started_at").min(),
            last_at=pl.col("ended_at").max(),
            persons=pl.col("party").sum(),
        )
        .with_columns(
            avg_ticket=pl.col("spend") // pl.col("orders"),
            per_person=pl.col("spend") // pl.col("persons"),
        )
    )
    sv = (
        v.group_by(["member_id", "store_id"])
        .agg(visits=pl.len(), spend=pl.col("net").sum(), last_at=pl.col("started_at").max())
        .sort(["member_id", "visits", "last_at", "store_id"], descending=[False, True, True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("member_id"))
    )
    li = pl.scan_parquet(d / "lines.parquet")
    j = li.join(o.select("order_id", "member_id", "bdate", "ordered_at"), on="order_id")
    days = (pl.col("bdate") - pl.date(2020, 1, 1)).dt.total_days()
    items = (
        j.with_columns(w=pl.col("quantity") * (days * LN2_HALF_LIFE).exp())
        .group_by(["member_id", "item_id"])
        .agg(
            quantity=pl.col("quantity").sum(),
            orders=pl.col("order_id").n_unique(),
            last_at=pl.col("ordered_at").max(),
            score=pl.col("w").sum().round(6),
        )
        .sort(
            ["member_id", "score", "quantity", "last_at", "item_id"],
            descending=[False, True, True, True, False],
        )
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("member_id"))
        .filter(pl.col("rank") <= 5)
    )
    s_df, sv_df, dishes = pl.collect_all([s, sv, items])
    return {
        "members": s_df.height,
        "visits": int(s_df["visits"].sum()),
        "store_rows": sv_df.height,
        "dish_rows": dishes.height,
    }


def run_incremental(d: Path) -> dict[str, Any]:
    """The last 1% of orders arrive after a full rebuild: refresh what they touch."""
    import pyarrow as pa
    import pyarrow.compute as pc

    con = engines.connect("duckdb")
    b = _duck_inputs(con, d)
    n_orders = b.orders.count().execute()
    new_from = int(n_orders * 0.99)
    # Setup (not timed): the state a full rebuild left behind, before the new orders.
    old_orders = b.orders.filter(b.orders.order_id < f"o{new_from:010d}")
    old = engines.member_feature_exprs(
        engines.BoundInputs(
            orders=old_orders,
            lines=b.lines,
            modifiers=b.modifiers,
            needs=b.needs,
            members=b.members,
        )
    )
    base = con.to_pyarrow(old["metrics"])
    new = b.orders.filter(b.orders.order_id >= f"o{new_from:010d}")
    t, cpu = time.perf_counter(), _cpu_seconds()
    # Extract the affected members' history once (the refresh's extraction step), then
    # compute their features on that small slice.
    affected = engines.materialise(con, new.select("member_id").distinct())
    orders = engines.materialise(con, b.orders.semi_join(affected, "member_id"))
    order_ids = orders.select("order_id")
    bound = engines.BoundInputs(
        orders=orders,
        lines=engines.materialise(con, b.lines.semi_join(order_ids, "order_id")),
        modifiers=engines.materialise(con, b.modifiers.semi_join(order_ids, "order_id")),
        needs=b.needs.semi_join(affected, "member_id"),
        members=b.members.semi_join(affected, "member_id"),
    )
    out = engines.execute(con, engines.member_feature_exprs(bound, con=con))
    fresh = out["metrics"]
    # Every other member keeps the metrics the last rebuild stored.
    keep = base.filter(pc.invert(pc.is_in(base.column("member_id"), value_set=fresh["member_id"])))
    metrics = pa.concat_tables([keep, fresh.select(keep.column_names).cast(keep.schema)])
    stores = engines.execute(
        con, engines.chain_feature_exprs(engines.bind_table(con, "metrics", metrics), AS_OF)
    )
    return {
        "affected_members": fresh.num_rows,
        "stores": stores["stores"].num_rows,
        "timed": time.perf_counter() - t,
        "timed_cpu": _cpu_seconds() - cpu,
    }


def run_spark(d: Path) -> dict[str, int]:
    session = engines.spark_session()
    con = engines.connect("spark", spark=session)
    tables = {}
    for name in TABLES:
        session.read.parquet(str(d / f"{name}.parquet")).createOrReplaceTempView(f"bench_{name}")
        tables[name] = con.table(f"bench_{name}")
    bound = engines.BoundInputs(**tables)
    out = engines.execute(con, engines.member_feature_exprs(bound, con=con))
    metrics = engines.bind_table(con, "metrics", out["metrics"])
    out.update(engines.execute(con, engines.chain_feature_exprs(metrics, AS_OF)))
    session.stop()
    return {k: v.num_rows for k, v in out.items()}


WORKERS = {
    "pipeline-full": run_pipeline_full,
    "pipeline-core": run_pipeline_core,
    "duckdb-sql": run_duckdb_sql,
    "pandas": run_pandas,
    "polars": run_polars,
    "scan": run_scan,
    "incremental": run_incremental,
    "spark": run_spark,
}


def worker(name: str, d: Path) -> None:
    # Library imports are not the contender's work: load them before the clock starts.
    import duckdb  # noqa: F401
    import ibis  # type: ignore[import-untyped]
    import pandas  # noqa: F401
    import polars  # noqa: F401

    ibis.duckdb  # noqa: B018 - ibis imports a backend (and sqlglot) on first use

    t, cpu = time.perf_counter(), _cpu_seconds()
    result: dict[str, Any] = dict(WORKERS[name](d))
    seconds = result.pop("timed", None) or (time.perf_counter() - t)
    cpu_seconds = result.pop("timed_cpu", None) or (_cpu_seconds() - cpu)
    peak = peak_rss_mib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "peak_mib": peak,
                "load_average": os.getloadavg(),
                "result": result,
            }
        )
    )


def _cpu_seconds() -> float:
    """User + system CPU time of this process, every thread (less sensitive to a shared
    machine than wall time: another job's work is not counted, waiting for a core is not)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, d: Path, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", name, "--data", str(d)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "peak_mib": None, "result": f"timeout after {timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"seconds": None, "peak_mib": None, "result": exc.stderr.strip().splitlines()[-1]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="1000000,5000000,20000000")
    parser.add_argument("--spark-lines", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--only", default="")
    parser.add_argument("--worker")
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data)
        return
    chosen = [w for w in WORKERS if not args.only or w in args.only.split(",")]
    report: dict[str, Any] = {
        "date": clock.now().date().isoformat(),
        "machine": (
            f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}"
        ),
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(prefix="memberops-bench-") as tmp:
        for lines in (int(x) for x in args.lines.split(",")):
            d = Path(tmp) / f"l{lines}"
            t = time.perf_counter()
            shape = generate(d, lines)
            size: dict[str, Any] = {**shape, "generate_seconds": time.perf_counter() - t}
            for name in chosen:
                if name == "spark" and lines > args.spark_lines:
                    continue
                size[name] = measure(name, d, args.timeout)
                print(json.dumps({"lines": lines, name: size[name]}), flush=True)
            report["sizes"].append(size)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
