"""The member 360 refresh: full or incremental, on DuckDB, PostgreSQL or Spark.

One refresh is one unit of work (the caller commits):
1. find the members to recompute: everyone (`full`), or those touched since the last
   watermark (new, late or refunded orders, merges, unmerges, erasures, label events);
2. extract their counted orders and lines as Arrow and compute the member-local
   features on the chosen engine;
3. replace their serving rows (profile groups, metrics, quarterly snapshots, last visit);
4. recompute store profiles from the narrow per-member metrics table;
5. record the watermark and "as of" of each feature group.

Clock-driven values (recency, tenure, visits per month) and spend ranks are not stored:
the profile read derives them from the stored metrics at read time (`serving`), so they
advance with the clock at no cost and are never stale.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete
from sqlalchemy.orm import Session

from memberops.db import bulk_insert, utcnow
from memberops.members.models import MemberProfile
from memberops.pipeline import engines, repository
from memberops.pipeline.engines import METRICS_SCHEMA, EngineName
from memberops.pipeline.extract import extract_inputs, in_place_sql, naive_utc
from memberops.pipeline.models import (
    MemberLastVisit,
    MemberMetrics,
    MemberTasteSnapshot,
    PipelineWatermark,
    StoreProfile,
)
from memberops.pipeline.rules import LOOKBACK, quarter_label
from memberops.privacy.crypto import KeyRing

__all__ = [
    "FEATURE_GROUPS",
    "PIPELINE_VERSION",
    "RefreshReport",
    "refresh_profiles",
]

PIPELINE_VERSION = "1"
FEATURE_GROUPS = ("transaction", "personalised", "stores")
STEPS = ("scan changes", "extract", "compute members", "write members", "stores", "watermarks")

Progress = Callable[[str], None]


@dataclass
class RefreshReport:
    """What one refresh did."""

    engine: str
    full: bool
    as_of: datetime
    watermark: datetime
    members_refreshed: int = 0
    members_removed: int = 0
    stores: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "engine": self.engine,
            "full": self.full,
            "as_of": self.as_of.isoformat(),
            "watermark": self.watermark.isoformat(),
            "members_refreshed": self.members_refreshed,
            "members_removed": self.members_removed,
            "stores": self.stores,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _by_member(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["member_id"]].append(row)
    return out


def _iso(value: datetime | None) -> str | None:
    return _aware(value).isoformat() if value is not None else None


def _write_members(session: Session, out: dict[str, pa.Table], *, as_of: datetime) -> int:
    """Insert the serving rows of the members present in `out` (old rows already gone)."""
    # Each Arrow table becomes Python rows once (the conversion is most of this step).
    rows = {name: _rows(table) for name, table in out.items()}
    metrics = {r["member_id"]: r for r in rows["metrics"]}
    if not metrics:
        return 0
    summary = {r["member_id"]: r for r in rows["summary"]}
    hours = {r["member_id"]: r for r in rows["usual_hours"]}
    store_visits = _by_member(rows["store_visits"])
    meal_mix = _by_member(rows["meal_mix"])
    dishes = _by_member(rows["top_dishes"])
    needs = _by_member(rows["top_needs"])
    q_activity = _by_member(rows["quarterly_activity"])
    q_dishes = _by_member(rows["quarterly_dishes"])
    last = _by_member(rows["last_visit"])
    item_ids = {
        item
        for t in ("top_dishes", "quarterly_dishes", "last_visit")
        for item in pc.unique(out[t].column("item_id")).to_pylist()
    }
    names = repository.item_names(session, item_ids)
    codes = repository.store_codes(session)

    profiles, metric_rows, snapshots, last_rows = [], [], [], []
    for member_id, m in metrics.items():
        s = summary[member_id]
        h = hours.get(member_id)
        transaction = {
            "orders": s["orders"],
            "visits": s["visits"],
            "spend_cents": s["spend_cents"],
            "first_visit_at": _iso(s["first_visit_at"]),
            "last_visit_at": _iso(s["last_visit_at"]),
            "active_months": s["active_months"],
            "visits_per_active_month": s["visits_per_active_month"],
            "stores_visited": s["stores_visited"],
            "store_visits": [
                {
                    "store_id": r["store_id"],
                    "store_code": codes.get(r["store_id"]),
                    "visits": r["visits"],
                    "spend_cents": r["spend_cents"],
                }
                for r in sorted(store_visits[member_id], key=lambda r: r["rank"])
            ],
            "most_visited_store_id": next(
                r["store_id"] for r in store_visits[member_id] if r["rank"] == 1
            ),
            "home_store_id": m["home_store_id"],
            "home_store_source": m["home_store_source"],
            "avg_ticket_cents": s["avg_ticket_cents"],
            "spend_per_person_cents": s["spend_per_person_cents"],
            "meal_mix": {
                r["meal_type"]: r["visits"]
                for r in sorted(meal_mix[member_id], key=lambda r: (-r["visits"], r["meal_type"]))
            },
            "usual_meal_time": (
                {
                    "from": f"{h['hour_from']:02d}:00",
                    "to": f"{h['hour_to'] % 24:02d}:00",
                    "share": h["share"],
                }
                if h
                else None
            ),
        }
        personalised = {
            "top_dishes": [
                {
                    "rank": r["rank"],
                    "item_id": r["item_id"],
                    "name": names.get(r["item_id"]),
                    "quantity": r["quantity"],
                    "orders": r["orders"],
                    "last_ordered_at": _iso(r["last_ordered_at"]),
                }
                for r in sorted(dishes[member_id], key=lambda r: r["rank"])
            ],
            "top_service_needs": [
                {
                    "rank": r["rank"],
                    "need": r["need"],
                    "orders": r["orders"],
                    "staff_records": r["staff_records"],
                    "last_seen_at": _iso(r["last_seen_at"]),
                }
                for r in sorted(needs[member_id], key=lambda r: r["rank"])
            ],
        }
        profiles.append(
            {
                "member_id": member_id,
                "computed_at": as_of,
                "pipeline_version": PIPELINE_VERSION,
                "transaction": transaction,
                "personalised": personalised,
            }
        )
        metric_rows.append(
            {
                **{
                    k: m[k]
                    for k in ("member_id", "home_store_id", "spend_cents", "orders", "visits")
                },
                "home_store_source": m["home_store_source"],
                "first_visit_at": _aware(m["first_visit_at"]),
                "last_visit_at": _aware(m["last_visit_at"]),
                "spend_per_person_cents": m["spend_per_person_cents"],
                "computed_at": as_of,
            }
        )
        per_quarter: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in q_dishes[member_id]:
            per_quarter[r["quarter_key"]].append(r)
        for qa in q_activity[member_id]:
            snapshots.append(
                {
                    "member_id": member_id,
                    "quarter": quarter_label(qa["quarter_key"]),
                    "visits": qa["visits"],
                    "spend_cents": qa["spend_cents"],
                    "top_dishes": [
                        {
                            "item_id": r["item_id"],
                            "name": names.get(r["item_id"]),
                            "quantity": r["quantity"],
                        }
                        for r in sorted(per_quarter[qa["quarter_key"]], key=lambda r: r["rank"])
                    ],
                }
            )
        if last[member_id]:
            first = last[member_id][0]
            last_rows.append(
                {
                    "member_id": member_id,
                    "store_id": first["store_id"],
                    "started_at": _aware(first["started_at"]),
                    "meal_type": first["meal_type"],
                    "lines": [
                        {
                            "item_id": r["item_id"],
                            "name": names.get(r["item_id"]),
                            "quantity": r["quantity"],
                        }
                        for r in sorted(last[member_id], key=lambda r: r["item_id"])
                    ],
                }
            )
    bulk_insert(session, MemberProfile, profiles)
    bulk_insert(session, MemberMetrics, metric_rows)
    bulk_insert(session, MemberTasteSnapshot, snapshots)
    bulk_insert(session, MemberLastVisit, last_rows)
    return len(profiles)


def _metrics_table(session: Session) -> pa.Table:
    rows = repository.metrics_rows(session)
    cols: dict[str, list[Any]] = {name: [] for name in METRICS_SCHEMA.names}
    for row in rows:
        for name in METRICS_SCHEMA.names:
            value = getattr(row, name)
            cols[name].append(naive_utc(value) if isinstance(value, datetime) else value)
    return pa.table(cols, schema=METRICS_SCHEMA)


def _write_stores(session: Session, stores: pa.Table, *, as_of: datetime) -> int:
    session.execute(delete(StoreProfile))
    rows = [
        {**r, "as_of": as_of}
        for r in _rows(stores)
        if r["store_id"] is not None  # members without any home store are not a store
    ]
    bulk_insert(session, StoreProfile, rows)
    return len(rows)


def _record(
    session: Session,
    group: str,
    *,
    watermark: datetime,
    as_of: datetime,
    engine: str,
    n: int,
    full: bool,
) -> None:
    row = session.get(PipelineWatermark, group)
    if row is None:
        row = PipelineWatermark(feature_group=group)
        session.add(row)
    row.watermark = watermark
    row.as_of = as_of
    row.engine = engine
    row.members_refreshed = n
    row.full = full


def refresh_profiles(
    session: Session,
    keyring: KeyRing,
    *,
    engine: EngineName = "duckdb",
    full: bool = False,
    database_url: str | None = None,
    spark: Any = None,
    progress: Progress | None = None,
) -> RefreshReport:
    """Recompute the member 360 serving tables (flushes; the caller commits).

    Incremental unless `full` or no refresh has run yet. `database_url` is needed for
    the postgres engine, `spark` optionally names a SparkSession for the spark engine.
    """
    now = utcnow()
    tick = time.perf_counter()
    report = RefreshReport(engine=engine, full=full, as_of=now, watermark=now)

    def step(name: str) -> None:
        nonlocal tick
        t = time.perf_counter()
        report.seconds[name] = t - tick
        tick = t
        if progress is not None:
            progress(name)

    previous = session.get(PipelineWatermark, "transaction")
    if previous is None or previous.watermark is None:
        full = report.full = True
    if full:
        targets: list[str] | None = None
        old = set(repository.members_with_orders(session)) | {
            r.member_id for r in repository.metrics_rows(session)
        }
    else:
        assert previous is not None and previous.watermark is not None
        old = repository.changed_members(session, previous.watermark - LOOKBACK)
        targets = sorted(old)
    step("scan changes")

    con = engines.connect(engine, database_url=database_url, spark=spark)
    try:
        inputs = extract_inputs(session, keyring, targets, in_place=engine == "postgres")
        if engine == "postgres":
            # In place: the features run inside PostgreSQL over the counted-orders
            # queries; only the decrypted staff-recorded needs are uploaded.
            queries = in_place_sql(targets)
            sql_inputs = {n: engines.conform_table(con.sql(q), n) for n, q in queries.items()}
            bound = engines.BoundInputs(
                **sql_inputs, needs=engines.bind_table(con, "needs", inputs.needs)
            )
        else:
            bound = engines.bind_inputs(con, inputs)
        step("extract")
        out: dict[str, pa.Table] = {}
        if targets is None or targets:
            out = engines.execute(con, engines.member_feature_exprs(bound, con=con))
        step("compute members")

        if full:
            for model in (MemberProfile, MemberMetrics, MemberLastVisit, MemberTasteSnapshot):
                session.execute(delete(model))
        else:
            repository.delete_member_rows(session, sorted(old))
        written = _write_members(session, out, as_of=now) if out else 0
        report.members_refreshed = written
        report.members_removed = max(len(old) - written, 0) if not full else 0
        session.flush()
        step("write members")

        metrics = _metrics_table(session)
        stores = con.to_pyarrow(
            engines.chain_feature_exprs(
                engines.bind_table(con, "metrics", metrics), naive_utc(now)
            )["stores"]
        )
        report.stores = _write_stores(session, stores, as_of=now)
        step("stores")
    finally:
        engines.release(con)

    for group in FEATURE_GROUPS:
        _record(session, group, watermark=now, as_of=now, engine=engine, n=written, full=full)
    session.flush()
    step("watermarks")
    return report
