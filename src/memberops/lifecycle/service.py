"""Lifecycle use cases: compute states, flows and cohorts on an engine; read them.

A run reads every active member's counted orders, evaluates the state machine
(`memberops.lifecycle.rules`, as the Ibis definition in `features`) at every month end
and today, and replaces the serving tables (flushes; the caller commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from memberops.errors import NotFound, ValidationError
from memberops.lifecycle import repository
from memberops.lifecycle.features import (
    cohort_retention,
    lifecycle_states,
    monthly_flows,
    points_table,
    visit_days,
)
from memberops.lifecycle.rules import STATES, LifecycleConfig, evaluation_points, month_index
from memberops.pipeline import engines
from memberops.pipeline.engines import EngineName
from memberops.pipeline.extract import bind_counted_orders, naive_utc

__all__ = [
    "LifecycleRun",
    "compute_lifecycle",
    "read_cohorts",
    "read_current",
    "read_flows",
    "run_lifecycle",
]

FLOW_STATES = ("none", *STATES)


def _label(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


@dataclass(frozen=True)
class LifecycleRun:
    """What one run stored."""

    as_of: datetime
    engine: str
    months: int
    member_months: int
    current: dict[str, int]
    config: LifecycleConfig

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "months": self.months,
            "member_months": self.member_months,
            "current": self.current,
            "config": self.config.__dict__,
        }


def compute_lifecycle(
    con: Any, orders: Any, as_of: datetime, config: LifecycleConfig
) -> tuple[pa.Table | None, pa.Table | None, pa.Table | None, list[date]]:
    """States, monthly flows and cohort retention of the counted `orders` (an Ibis table
    on `con`) at every month end before `as_of` (naive UTC) and at `as_of` itself, as
    Arrow; Nones and no points when nobody has visited.

    Visit days and states each feed two expressions, so each is computed once on the
    engine (`engines.materialise`) and read from there.
    """
    days = engines.materialise(con, visit_days(orders, as_of))
    first = con.to_pyarrow(days.aggregate(first=days.business_date.min())).column(0)[0]
    first_day = first.as_py()
    if first_day is None:
        return None, None, None, []
    points = evaluation_points(first_day, as_of.date())
    state_expr = engines.materialise(con, lifecycle_states(days, points_table(points), config))
    states = con.to_pyarrow(state_expr)
    flows = con.to_pyarrow(monthly_flows(state_expr))
    cohorts = con.to_pyarrow(cohort_retention(days))
    return states, flows, cohorts, points


def run_lifecycle(
    session: Session,
    *,
    now: datetime,
    config: LifecycleConfig | None = None,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
) -> LifecycleRun:
    """Compute and store lifecycle states, flows and cohorts from counted orders before `now`."""
    config = config or LifecycleConfig()
    for field, reason in config.problems():
        raise ValidationError("lifecycle config", field, reason)
    as_of = naive_utc(now)
    con = engines.connect(engine, database_url=database_url, spark=spark)
    try:
        computed = compute_lifecycle(con, bind_counted_orders(session, con), as_of, config)
    finally:
        engines.release(con)
    states, flows, cohorts, points = computed
    state_rows: list[dict[str, Any]] = []
    flow_rows: list[dict[str, Any]] = []
    cohort_rows: list[dict[str, Any]] = []
    if states is not None and flows is not None and cohorts is not None:
        state_rows = [
            {"member_id": m, "month": _label(k), "state": s, "as_of": now}
            for m, k, s in zip(
                states.column("member_id").to_pylist(),
                states.column("month_key").to_pylist(),
                states.column("state").to_pylist(),
                strict=True,
            )
        ]
        flow_rows = [
            {
                "month": _label(r["month_key"]),
                "from_state": r["from_state"],
                "to_state": r["to_state"],
                "members": r["members"],
                "as_of": now,
            }
            for r in flows.to_pylist()
        ]
        cohort_rows = [
            {
                "cohort": _label(r["cohort_key"]),
                "k": r["k"],
                "members": r["members"],
                "cohort_size": r["cohort_size"],
                "as_of": now,
            }
            for r in cohorts.to_pylist()
        ]
    repository.replace_all(session, state_rows, flow_rows, cohort_rows)
    session.flush()
    last = _label(points[-1].year * 100 + points[-1].month) if points else None
    current = {s: 0 for s in STATES}
    for row in state_rows:
        if row["month"] == last:
            current[row["state"]] += 1
    return LifecycleRun(
        as_of=now,
        engine=engine,
        months=len(points),
        member_months=len(state_rows),
        current=current,
        config=config,
    )


def _latest_or_raise(session: Session) -> tuple[str, Any]:
    latest = repository.latest_month(session)
    if latest is None:
        raise NotFound("no lifecycle states yet; run `memberops lifecycle run`")
    return latest


def read_current(session: Session) -> dict[str, Any]:
    """Members per state in the latest month (aggregates only)."""
    month, as_of = _latest_or_raise(session)
    counts = repository.current_counts(session, month)
    total = sum(counts.values())
    return {
        "month": month,
        "as_of": as_of.isoformat(),
        "members": total,
        "states": [
            {
                "state": s,
                "members": counts.get(s, 0),
                "share": counts.get(s, 0) / total if total else 0.0,
            }
            for s in STATES
        ],
    }


def read_flows(session: Session, *, since: str | None = None) -> dict[str, Any]:
    """The monthly flow table: from_state -> to_state counts per month."""
    _month, as_of = _latest_or_raise(session)
    rows = repository.flows(session, since=since)
    return {
        "as_of": as_of.isoformat(),
        "states": list(FLOW_STATES),
        "flows": [
            {
                "month": r.month,
                "from_state": r.from_state,
                "to_state": r.to_state,
                "members": r.members,
            }
            for r in rows
        ],
    }


def _month_number(label: str) -> int:
    year, month = label.split("-")
    return month_index(int(year), int(month))


def read_cohorts(session: Session) -> dict[str, Any]:
    """Cohort retention: per first-visit month, the share visiting k months later (k from 0
    to the latest month; months without a visit are 0)."""
    latest, as_of = _latest_or_raise(session)
    cells: dict[str, dict[int, int]] = {}
    sizes: dict[str, int] = {}
    for r in repository.cohorts(session):
        cells.setdefault(r.cohort, {})[r.k] = r.members
        sizes[r.cohort] = r.cohort_size
    return {
        "as_of": as_of.isoformat(),
        "cohorts": [
            {
                "cohort": cohort,
                "size": sizes[cohort],
                "retention": [
                    {
                        "k": k,
                        "members": cells[cohort].get(k, 0),
                        "share": cells[cohort].get(k, 0) / sizes[cohort],
                    }
                    for k in range(_month_number(latest) - _month_number(cohort) + 1)
                ],
            }
            for cohort in sorted(cells)
        ],
    }
