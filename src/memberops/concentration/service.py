"""Revenue concentration use cases: compute every scope on an engine, read the curve and
the top list.

A run computes each member's net spend chain-wide and per store on the chosen engine
(`memberops.concentration.features`), the curve, the top-20% share and the Gini
coefficient with the pure rules, and replaces the serving tables (flushes; the caller
commits).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from memberops.catalog.service import all_store_codes, get_store_id_by_code_or_raise
from memberops.concentration import repository
from memberops.concentration.features import CHAIN, member_spend
from memberops.concentration.rules import concentration, top_count
from memberops.errors import NotFound, ValidationError
from memberops.pipeline import engines
from memberops.pipeline.engines import EngineName
from memberops.pipeline.extract import bind_counted_orders, naive_utc

__all__ = ["ConcentrationRun", "read_concentration", "read_top", "run_concentration"]


@dataclass(frozen=True)
class ConcentrationRun:
    """What one run stored: per scope (chain, store codes) members, revenue and Gini."""

    as_of: datetime
    engine: str
    scopes: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"as_of": self.as_of.isoformat(), "engine": self.engine, "scopes": self.scopes}


def run_concentration(
    session: Session,
    *,
    now: datetime,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
) -> ConcentrationRun:
    """Compute and store the concentration of every scope from counted orders before `now`."""
    con = engines.connect(engine, database_url=database_url, spark=spark)
    try:
        orders = bind_counted_orders(session, con)
        table = con.to_pyarrow(member_spend(orders, naive_utc(now)))
    finally:
        engines.release(con)
    by_scope: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for scope, member_id, spend, rank in zip(
        table.column("scope").to_pylist(),
        table.column("member_id").to_pylist(),
        # Integer columns through NumPy: several times faster than Arrow's to_pylist.
        table.column("spend_cents").to_numpy().tolist(),
        table.column("rank").to_numpy().tolist(),
        strict=True,
    ):
        by_scope[scope].append((member_id, spend, rank))
    codes = all_store_codes(session)
    summary_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    report: dict[str, dict[str, Any]] = {}
    for scope, rows in sorted(by_scope.items()):
        measures = concentration([s for _m, s, _r in rows], share=0.2)
        summary = {
            "scope": scope,
            "members": measures.members,
            "revenue_cents": measures.revenue_cents,
            "gini": measures.gini,
            "top20_share": measures.top_share,
            "curve": measures.curve,
            "as_of": now,
        }
        summary_rows.append(summary)
        member_rows.extend(
            {"scope": scope, "member_id": m, "spend_cents": s, "rank": r} for m, s, r in rows
        )
        name = CHAIN if scope == CHAIN else codes.get(scope, scope)
        report[name] = {k: summary[k] for k in ("members", "revenue_cents", "gini", "top20_share")}
    repository.replace_all(session, summary_rows, member_rows)
    session.flush()
    return ConcentrationRun(as_of=now, engine=engine, scopes=report)


def _scope(session: Session, store_code: str | None) -> str:
    return CHAIN if store_code is None else get_store_id_by_code_or_raise(session, store_code)


def _summary_or_raise(session: Session, store_code: str | None) -> Any:
    row = repository.summary(session, _scope(session, store_code))
    if row is None:
        raise NotFound(
            f"no concentration for {store_code or 'the chain'} yet; "
            "run `memberops concentration run`"
        )
    return row


def read_concentration(session: Session, *, store_code: str | None = None) -> dict[str, Any]:
    """The stored curve, Gini and top-20% share of the chain or one store."""
    row = _summary_or_raise(session, store_code)
    return {
        "scope": CHAIN if store_code is None else "store",
        "store": store_code,
        "as_of": row.as_of.isoformat(),
        "members": row.members,
        "revenue_cents": row.revenue_cents,
        "gini": row.gini,
        "top20_share": row.top20_share,
        "top20_members": top_count(row.members, 0.2),
        "curve": [
            {"percent_of_members": p, "share_of_revenue": share}
            for p, share in enumerate(row.curve, start=1)
        ],
    }


def read_top(
    session: Session,
    *,
    store_code: str | None = None,
    share: float = 0.2,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of the top `share` of members by net spend (member ids: the edge hides them
    from roles that may not see them)."""
    if not 0 < share <= 1:
        raise ValidationError("concentration", "share", "must be in (0, 1]")
    row = _summary_or_raise(session, store_code)
    total = top_count(row.members, share)
    members = repository.top_members(session, row.scope, max_rank=total, limit=limit, offset=offset)
    top_revenue = repository.top_revenue(session, row.scope, max_rank=total)
    return {
        "scope": CHAIN if store_code is None else "store",
        "store": store_code,
        "as_of": row.as_of.isoformat(),
        "share": share,
        "total": total,
        "limit": limit,
        "offset": offset,
        "revenue_cents": row.revenue_cents,
        "top_revenue_cents": top_revenue,
        "top_share_of_revenue": top_revenue / row.revenue_cents if row.revenue_cents else 0.0,
        "members": [{"member_id": m, "spend_cents": s, "rank": r} for m, s, r in members],
    }
