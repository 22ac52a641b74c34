"""RFM use cases: score a scope on an engine and store it; read the grid and segments.

A run reads every active member's counted orders, computes the scores on the chosen
engine (`memberops.rfm.features`) and replaces the rows of its scope in `rfm_scores`
(flushes; the caller commits). Reads are aggregates over the stored rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from memberops.catalog.service import all_store_codes, get_store_id_by_code_or_raise
from memberops.errors import NotFound, ValidationError
from memberops.pipeline import engines
from memberops.pipeline.engines import EngineName
from memberops.pipeline.extract import bind_counted_orders, naive_utc
from memberops.rfm import repository
from memberops.rfm.features import CHAIN, rfm_scores
from memberops.rfm.rules import SEGMENTS, RfmConfig

__all__ = ["RfmRun", "member_rfm", "read_rfm", "resolve_scope", "run_rfm", "run_rfm_stores"]


@dataclass(frozen=True)
class RfmRun:
    """What one run stored."""

    scope: str
    store: str | None
    members: int
    bins: int
    engine: str
    as_of: datetime
    segments: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "scope": self.scope,
            "store": self.store,
            "members": self.members,
            "bins": self.bins,
            "engine": self.engine,
            "as_of": self.as_of.isoformat(),
            "segments": self.segments,
        }


def resolve_scope(session: Session, store_code: str | None) -> str:
    """'chain', or the id of the store with `store_code` (NotFound otherwise)."""
    if store_code is None:
        return CHAIN
    return get_store_id_by_code_or_raise(session, store_code)


def run_rfm(
    session: Session,
    *,
    now: datetime,
    config: RfmConfig | None = None,
    store_code: str | None = None,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
) -> RfmRun:
    """Score every member with counted orders before `now` in one scope and store it."""
    config = config or RfmConfig()
    for field, reason in config.problems():
        raise ValidationError("rfm config", field, reason)
    scope = resolve_scope(session, store_code)
    con = engines.connect(engine, database_url=database_url, spark=spark)
    try:
        orders = bind_counted_orders(session, con)
        if scope != CHAIN:
            orders = orders.filter(orders.store_id == scope)
        expr = rfm_scores(orders, naive_utc(now), bins=config.bins, by_store=scope != CHAIN)
        table = con.to_pyarrow(expr)
    finally:
        engines.release(con)
    rows = [{**row, "bins": config.bins, "as_of": now} for row in table.to_pylist()]
    repository.replace_scope(session, scope, rows)
    session.flush()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["segment"]] = counts.get(row["segment"], 0) + 1
    return RfmRun(
        scope=scope,
        store=store_code,
        members=len(rows),
        bins=config.bins,
        engine=engine,
        as_of=now,
        segments={s: counts.get(s, 0) for s in SEGMENTS},
    )


def run_rfm_stores(
    session: Session,
    *,
    now: datetime,
    config: RfmConfig | None = None,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
) -> list[RfmRun]:
    """Score every store's members within that store (one expression for all stores) and
    store each store's scope; the same scores as `run_rfm(store_code=...)` store by store."""
    config = config or RfmConfig()
    for field, reason in config.problems():
        raise ValidationError("rfm config", field, reason)
    con = engines.connect(engine, database_url=database_url, spark=spark)
    try:
        orders = bind_counted_orders(session, con)
        table = con.to_pyarrow(rfm_scores(orders, naive_utc(now), bins=config.bins, by_store=True))
    finally:
        engines.release(con)
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for row in table.to_pylist():
        by_scope.setdefault(row["scope"], []).append({**row, "bins": config.bins, "as_of": now})
    codes = all_store_codes(session)
    runs = []
    for scope, rows in sorted(by_scope.items()):
        repository.replace_scope(session, scope, rows)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["segment"]] = counts.get(row["segment"], 0) + 1
        runs.append(
            RfmRun(
                scope=scope,
                store=codes.get(scope),
                members=len(rows),
                bins=config.bins,
                engine=engine,
                as_of=now,
                segments={s: counts.get(s, 0) for s in SEGMENTS},
            )
        )
    session.flush()
    return runs


def read_rfm(session: Session, *, store_code: str | None = None) -> dict[str, Any]:
    """The stored run of a scope as aggregates: segment counts and spend, the R x F grid.

    Only counts and sums: no member appears. NotFound when the scope was never run.
    """
    scope = resolve_scope(session, store_code)
    meta = repository.scope_meta(session, scope)
    if meta is None:
        raise NotFound(
            f"no RFM scores for {store_code or 'the chain'} yet; run `memberops rfm run`"
        )
    members, as_of, bins = meta
    by_segment = {s: (n, c) for s, n, c in repository.segment_summary(session, scope)}
    total_spend = sum(c for _n, c in by_segment.values())
    cells = {(r, f): (n, c) for r, f, n, c in repository.grid(session, scope)}
    return {
        "scope": CHAIN if scope == CHAIN else "store",
        "store": store_code,
        "as_of": as_of.isoformat(),
        "bins": bins,
        "members": members,
        "spend_cents": total_spend,
        "segments": [
            {
                "segment": s,
                "members": by_segment.get(s, (0, 0))[0],
                "share_of_members": by_segment.get(s, (0, 0))[0] / members,
                "spend_cents": by_segment.get(s, (0, 0))[1],
                "share_of_spend": (by_segment.get(s, (0, 0))[1] / total_spend)
                if total_spend
                else 0.0,
            }
            for s in SEGMENTS
        ],
        # grid[r-1][f-1]: members with recency score r and frequency score f.
        "grid": {
            "r": list(range(1, bins + 1)),
            "f": list(range(1, bins + 1)),
            "members": [
                [cells.get((r, f), (0, 0))[0] for f in range(1, bins + 1)]
                for r in range(1, bins + 1)
            ],
            "spend_cents": [
                [cells.get((r, f), (0, 0))[1] for f in range(1, bins + 1)]
                for r in range(1, bins + 1)
            ],
        },
    }


def member_rfm(session: Session, member_id: str) -> list[dict[str, Any]]:
    """One member's stored scores in every scope (chain first; stores by code)."""
    codes = all_store_codes(session)
    return [
        {
            "scope": CHAIN if row.scope == CHAIN else "store",
            "store": None if row.scope == CHAIN else codes.get(row.scope),
            "r": row.r,
            "f": row.f,
            "m": row.m,
            "score": row.score,
            "segment": row.segment,
            "recency_days": row.recency_days,
            "visits": row.visits,
            "spend_cents": row.spend_cents,
            "bins": row.bins,
            "as_of": row.as_of.isoformat(),
        }
        for row in repository.member_rows(session, member_id)
    ]
