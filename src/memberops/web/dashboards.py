"""Dashboards: one registry, each chart with its numbers in a table and a CSV download.

`REGISTRY` lists every dashboard in page order. An entry names:

- `id`: the chart's anchor (`#chart-<id>`) and CSV name (`/dashboards/<id>.csv`);
- `title_key`: its message key in `locales/*.json` (add it to both catalogues), and
  column headings come from `col.<column>` keys when present (else the column name);
- `kind`: how it is drawn: `bar` (one series per numeric column), `stacked` (stacked
  bars), `line`, or `doughnut` (first numeric column only);
- `columns`: the table's columns, the first one labels the rows;
- where the numbers come from, one of:
  - `data_url`: a `/v1` JSON endpoint, read in-process as the signed-in person (so the
    API's roles, store scope, pseudonyms, rate limit and audit apply unchanged; an
    answer other than 200 leaves the chart out), with `rows_at` the dotted path of the
    rows in the answer: a list of objects (their `columns` keys are read), a list of
    lists, or an object (its items become `key, value` rows);
  - `load`: a function of a database session returning the rows.

A new analytics endpoint becomes a dashboard with one entry, e.g.::

    Dashboard("rfm", "dash.rfm", "bar", ("segment", "members"),
              data_url="/v1/analytics/rfm", rows_at="segments"),

`roles` says who sees the entry (the `/v1` endpoint still decides for `data_url` ones).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import CONSOLE_ACTOR_SCOPE, Actor
from memberops.catalog.models import Store
from memberops.db import transaction
from memberops.errors import Forbidden, MemberOpsError, NotFound
from memberops.loyalty.models import TierHistory
from memberops.loyalty.service import active_policy
from memberops.pipeline.models import StoreProfile
from memberops.web.endpoints import _error_page, _runtime, _signed_in, render
from memberops.web.service import (
    DASHBOARD_ROLES,
    Chart,
    _complaints,
    _nps,
    _store_mix,
    _tier_distribution,
)

__all__ = ["REGISTRY", "Dashboard", "load_charts", "router"]

router = APIRouter(include_in_schema=False)
_log = logging.getLogger(__name__)

Rows = list[list[Any]]
Table = tuple[list[str], Rows]


@dataclass(frozen=True)
class Dashboard:
    """One registry entry (see the module docstring)."""

    id: str
    title_key: str
    kind: str
    columns: tuple[str, ...]
    data_url: str | None = None
    rows_at: str = ""
    load: Callable[[Session], Rows] | None = None
    shape: Callable[[Any], Table] | None = None
    roles: tuple[str, ...] = DASHBOARD_ROLES


def _rows_of(builder: Callable[[Session], Chart]) -> Callable[[Session], Rows]:
    return lambda session: builder(session).rows


def _tier_ranks(session: Session) -> dict[str, int]:
    _, policy = active_policy(session)
    return {tier.code: rank for rank, tier in enumerate(policy.tiers)}


def _tier_moves(session: Session) -> list[tuple[datetime, str | None, str]]:
    return [
        (at, source, target)
        for at, source, target in session.execute(
            select(TierHistory.at, TierHistory.from_code, TierHistory.to_code).where(
                (TierHistory.from_code.is_(None)) | (TierHistory.from_code != TierHistory.to_code)
            )
        )
    ]


def tier_flows(session: Session) -> Rows:
    """Per month: members who got their first tier, moved up, moved down (stacked)."""
    ranks = _tier_ranks(session)
    months: dict[str, Counter[str]] = {}
    for at, source, target in _tier_moves(session):
        month = months.setdefault(at.strftime("%Y-%m"), Counter())
        if source is None:
            month["joined"] += 1
        elif ranks.get(target, 0) > ranks.get(source, 0):
            month["up"] += 1
        else:
            month["down"] += 1
    return [[m, c["joined"], c["up"], c["down"]] for m, c in sorted(months.items())]


def tier_moves(session: Session) -> Rows:
    """Every move between two tiers with how many members made it (a flow table)."""
    counted = Counter(
        f"{source} → {target}" for _at, source, target in _tier_moves(session) if source
    )
    return [[move, n] for move, n in counted.most_common()]


def store_profiles(session: Session) -> Rows:
    """The profile pipeline's per-store figures over each store's home members."""
    rows = session.execute(
        select(
            Store.code,
            StoreProfile.members,
            StoreProfile.visits_per_member,
            StoreProfile.spend_p50_cents,
            StoreProfile.premium_share,
        )
        .join(Store, Store.id == StoreProfile.store_id)
        .order_by(StoreProfile.members.desc(), Store.code)
    ).all()
    return [
        [code, int(n), round(float(visits), 2), round(float(p50) / 100), round(float(share), 3)]
        for code, n, visits, p50, share in rows
    ]


# ---------------------------------------------------------------------------- shapes
# Answers that are not a list of rows, turned into (columns, rows) for the table.
def rfm_grid(grid: Any) -> Table:
    """GET /v1/rfm `grid`: one row per recency score, one column of members per
    frequency score (drawn as stacked bars, one stack per R)."""
    if not isinstance(grid, dict) or not grid.get("members"):
        return [], []
    columns = ["recency", *(f"F{f}" for f in grid["f"])]
    rows: Rows = [[f"R{r}", *counts] for r, counts in zip(grid["r"], grid["members"], strict=True)]
    return columns, rows


CURVE_STEP = 5  # percent: the curve's table keeps 1 % and every 5 % (21 rows, not 100)


def concentration_curve(curve: Any) -> Table:
    """GET /v1/concentration `curve`: share of revenue of the top x % of members, at
    1 % and every `CURVE_STEP` % (the 80/20 line)."""
    if not isinstance(curve, list):
        return [], []
    rows: Rows = [
        [p["percent_of_members"], _cell(float(p["share_of_revenue"]))]
        for p in curve
        if p["percent_of_members"] == 1 or p["percent_of_members"] % CURVE_STEP == 0
    ]
    return ["percent_of_members", "share_of_revenue"], rows


def concentration_summary(answer: Any) -> Table:
    """GET /v1/concentration: the Gini coefficient and the top 20 %'s share of revenue."""
    if not isinstance(answer, dict) or "gini" not in answer:
        return [], []
    return ["measure", "figure"], [
        ["gini", _cell(float(answer["gini"]))],
        ["top20_share", _cell(float(answer["top20_share"]))],
    ]


def lifecycle_flows(answer: Any) -> Table:
    """GET /v1/lifecycle/flows: per month, members moving into each state (staying in a
    state is not a move), one column per state for stacked bars."""
    if not isinstance(answer, dict) or not answer.get("flows"):
        return [], []
    states = [s for s in answer.get("states", []) if s != "none"]
    months: dict[str, Counter[str]] = {}
    for flow in answer["flows"]:
        month = months.setdefault(flow["month"], Counter())
        if flow["from_state"] != flow["to_state"]:
            month[flow["to_state"]] += int(flow["members"])
    return ["month", *states], [[m, *(c[s] for s in states)] for m, c in sorted(months.items())]


def cohort_retention(cohorts: Any) -> Table:
    """GET /v1/lifecycle/cohorts: share of members visiting k months after their first
    month, over every cohort that has reached month k (one retention line)."""
    if not isinstance(cohorts, list):
        return [], []
    reached: Counter[int] = Counter()
    kept: Counter[int] = Counter()
    for cohort in cohorts:
        for cell in cohort["retention"]:
            reached[cell["k"]] += int(cohort["size"])
            kept[cell["k"]] += int(cell["members"])
    rows: Rows = [[k, _cell(kept[k] / reached[k])] for k in sorted(reached) if reached[k]]
    return ["months_after", "retention"], rows


def store_segments(stores: Any) -> Table:
    """GET /v1/storemix `stores`: home members per value segment, one row per store."""
    if not isinstance(stores, list) or not stores:
        return [], []
    segments = list(stores[0]["segments"])
    rows: Rows = [
        [s["store_code"], *(s["segments"].get(g, {}).get("members", 0) for g in segments)]
        for s in stores
    ]
    return ["store", *segments], rows


REGISTRY: list[Dashboard] = [
    Dashboard("tiers", "dash.tiers", "bar", ("tier", "members"), load=_rows_of(_tier_distribution)),
    Dashboard(
        "tier_flows",
        "dash.tier_flows",
        "stacked",
        ("month", "joined", "up", "down"),
        load=tier_flows,
    ),
    Dashboard("tier_moves", "dash.tier_moves", "bar", ("move", "members"), load=tier_moves),
    Dashboard(
        "clv",
        "dash.clv",
        "line",
        ("quantile", "clv_cents"),
        data_url="/v1/analytics/clv?limit=0",
        rows_at="aggregates.clv_cents_quantiles",
    ),
    Dashboard(
        "baskets",
        "dash.baskets",
        "bar",
        ("antecedents", "consequents", "lift", "confidence", "support"),
        data_url="/v1/analytics/baskets/rules?limit=15",
        rows_at="rules",
    ),
    Dashboard(
        "cycles",
        "dash.cycles",
        "bar",
        ("status", "members"),
        data_url="/v1/analytics/cycles/due?limit=1",
        rows_at="status_counts",
    ),
    Dashboard(
        "rfm_segments",
        "dash.rfm_segments",
        "bar",
        ("segment", "share_of_members", "share_of_spend"),
        data_url="/v1/rfm",
        rows_at="segments",
    ),
    Dashboard(
        "rfm_grid",
        "dash.rfm_grid",
        "stacked",
        ("recency",),
        data_url="/v1/rfm",
        rows_at="grid",
        shape=rfm_grid,
    ),
    Dashboard(
        "concentration",
        "dash.concentration",
        "line",
        ("percent_of_members", "share_of_revenue"),
        data_url="/v1/concentration",
        rows_at="curve",
        shape=concentration_curve,
    ),
    Dashboard(
        "gini",
        "dash.gini",
        "bar",
        ("measure", "figure"),
        data_url="/v1/concentration",
        shape=concentration_summary,
    ),
    Dashboard(
        "lifecycle",
        "dash.lifecycle",
        "bar",
        ("state", "members"),
        data_url="/v1/lifecycle",
        rows_at="states",
    ),
    Dashboard(
        "lifecycle_flows",
        "dash.lifecycle_flows",
        "stacked",
        ("month",),
        data_url="/v1/lifecycle/flows",
        shape=lifecycle_flows,
    ),
    Dashboard(
        "cohorts",
        "dash.cohorts",
        "line",
        ("months_after", "retention"),
        data_url="/v1/lifecycle/cohorts",
        rows_at="cohorts",
        shape=cohort_retention,
    ),
    Dashboard(
        "fans", "dash.fans", "doughnut", ("level", "members"), data_url="/v1/fans", rows_at="levels"
    ),
    Dashboard(
        "lifestyle",
        "dash.lifestyle",
        "bar",
        ("trait", "members"),
        data_url="/v1/lifestyle",
        rows_at="traits",
    ),
    Dashboard(
        "storemix",
        "dash.storemix",
        "stacked",
        ("store",),
        data_url="/v1/storemix",
        rows_at="stores",
        shape=store_segments,
    ),
    Dashboard(
        "store_profiles",
        "dash.store_profiles",
        "bar",
        ("store", "members", "visits_per_member", "spend_p50_yuan", "premium_share"),
        load=store_profiles,
    ),
    Dashboard(
        "stores", "dash.stores", "bar", ("store", "orders", "net_yuan"), load=_rows_of(_store_mix)
    ),
    Dashboard("nps", "dash.nps", "bar", ("store", "nps", "responses"), load=_rows_of(_nps)),
    Dashboard(
        "complaints", "dash.complaints", "bar", ("status", "complaints"), load=_rows_of(_complaints)
    ),
]


# ---------------------------------------------------------------------------- reading
def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return " + ".join(str(v) for v in value)
    if isinstance(value, float):
        return round(value, 4)
    return value


def _at(payload: Any, rows_at: str) -> Any:
    found = payload
    for part in filter(None, rows_at.split(".")):
        found = found.get(part) if isinstance(found, dict) else None
    return found


def table_from_json(payload: Any, entry: Dashboard) -> Table:
    """An entry's columns and rows from its JSON answer (`shape` when it has one)."""
    if entry.shape is not None:
        return entry.shape(_at(payload, entry.rows_at))
    return list(entry.columns), rows_from_json(payload, entry.rows_at, entry.columns)


def rows_from_json(payload: Any, rows_at: str, columns: tuple[str, ...]) -> Rows:
    """The table rows at `rows_at` in a JSON answer (see the module docstring)."""
    found = _at(payload, rows_at)
    if isinstance(found, dict):
        return [[_cell(k), _cell(v)] for k, v in found.items()]
    if not isinstance(found, list):
        return []
    rows: Rows = []
    for item in found:
        if isinstance(item, dict):
            rows.append([_cell(item.get(c)) for c in columns])
        elif isinstance(item, list):
            rows.append([_cell(v) for v in item])
    return rows


async def get_json(app: FastAPI, actor: Actor, url: str) -> tuple[int, Any]:
    """GET a `/v1` route in-process as `actor` (no key leaves the server, none is needed).

    The actor rides in the ASGI scope, which no client can set, and the API's own
    dependencies (roles, limits, audit) treat it like a presented key's actor.
    """
    path, _, query = url.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"console.internal"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 0),
        "server": ("console.internal", 80),
        "state": {},
        CONSOLE_ACTOR_SCOPE: actor,
    }
    status = 500
    body = bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception as error:  # one failing analysis must not take the page down
        _log.warning("dashboard source %s failed: %s", path, type(error).__name__)
        return 500, None
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


def _load_rows(request: Request, entries: list[Dashboard]) -> dict[str, Rows]:
    with transaction(_runtime(request).sessions) as session:
        return {e.id: e.load(session) for e in entries if e.load is not None}


async def load_charts(request: Request, actor: Actor, only: str | None = None) -> list[Chart]:
    """Every dashboard the actor may read that has data, in registry order."""
    if actor.role not in DASHBOARD_ROLES:
        raise Forbidden(f"dashboards need one of the roles: {', '.join(DASHBOARD_ROLES)}")
    entries = [e for e in REGISTRY if actor.role in e.roles and only in (None, e.id)]
    loaded = await run_in_threadpool(_load_rows, request, entries)
    charts = []
    answers: dict[str, tuple[int, Any]] = {}  # one call per URL (RFM feeds two charts)
    for entry in entries:
        columns, rows = list(entry.columns), loaded.get(entry.id)
        if entry.data_url is not None:
            if entry.data_url not in answers:
                answers[entry.data_url] = await get_json(request.app, actor, entry.data_url)
            status, payload = answers[entry.data_url]
            columns, rows = table_from_json(payload, entry) if status == 200 else (columns, [])
        if rows:
            charts.append(Chart(entry.id, entry.title_key, columns, rows, entry.kind))
    return charts


def _session_actor(request: Request) -> tuple[Actor, str]:
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        return actor, row.csrf_token


# ---------------------------------------------------------------------------- pages
@router.get("/dashboards", response_class=HTMLResponse)
async def dashboards_page(request: Request) -> HTMLResponse:
    """Every chart that has data, each with its table and a CSV download."""
    actor, csrf = await run_in_threadpool(_session_actor, request)
    try:
        charts = await load_charts(request, actor)
    except MemberOpsError as error:
        return _error_page(request, error, actor, csrf)
    return render(request, "dashboards.html", actor=actor, csrf=csrf, charts=charts)


@router.get("/dashboards/{chart_id}.csv")
async def dashboard_csv(request: Request, chart_id: str) -> Response:
    """One chart's numbers as CSV."""
    actor, _csrf = await run_in_threadpool(_session_actor, request)
    charts = await load_charts(request, actor, only=chart_id)
    if not charts:
        raise NotFound(f"chart {chart_id} not found")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(charts[0].columns)
    writer.writerows(charts[0].rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{charts[0].id}.csv"'},
    )
