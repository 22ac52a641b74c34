"""Data movement: counted orders and lines out of the database as Arrow (and Parquet).

DuckDB cannot attach SQLite or PostgreSQL offline, so the pipeline moves data through
Arrow: the counted-orders queries are executed once, their rows become Arrow tables the
engines read. `export_orders` writes the same rows to Parquet, partitioned by order
date, for a lake (docs/pipeline.md, "Export").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from memberops.actor import system_actor
from memberops.labels.service import list_labels
from memberops.orders.counted import counted_order_lines_query, counted_orders_query
from memberops.orders.models import OrderAdjustment
from memberops.pipeline import repository
from memberops.pipeline.engines import INPUT_SCHEMAS, FeatureInputs, bind_table, conform_table
from memberops.privacy.crypto import KeyRing

__all__ = [
    "ExportReport",
    "bind_counted_orders",
    "counted_orders_table",
    "export_orders",
    "extract_inputs",
    "in_place_sql",
    "naive_utc",
]

# Staff-recorded needs: written by staff or the member, screened by the label guard
# before they were stored (rejected text never reaches the labels table). Computed
# service-need labels are excluded: they restate order modifiers, counted already.
_NEED_CATEGORY = "service_need"
_NEED_SOURCES = ("staff", "member", "import")


def naive_utc(value: datetime) -> datetime:
    """An aware time as naive UTC (the engines' timestamp convention)."""
    return value.astimezone(UTC).replace(tzinfo=None)


def _modifiers(value: Any) -> list[str]:
    if value is None or value == "[]":
        return []
    if isinstance(value, str):  # JSON text (SQLite; see repository.counted_line_rows)
        value = json.loads(value)
    return [str(v) for v in value]


def extract_inputs(
    session: Session, keyring: KeyRing, member_ids: Sequence[str] | None, *, in_place: bool = False
) -> FeatureInputs:
    """The five feature inputs for active members (all of them, or among `member_ids`).

    With `in_place`, only the needs are extracted (the engine reads the rest itself);
    needs are then read for every active member among `member_ids`.
    """
    members = repository.active_members(session, member_ids)
    active = {m for m, _s in members}
    ids = None if member_ids is None else sorted(active)
    orders: dict[str, list[Any]] = {name: [] for name in INPUT_SCHEMAS["orders"].names}
    for row in () if in_place else repository.counted_order_rows(session, ids):
        if row.member_id not in active:
            continue  # erased members keep orders under a pseudonym; they have no profile
        orders["order_id"].append(row.order_id)
        orders["member_id"].append(row.member_id)
        orders["store_id"].append(row.store_id)
        orders["ordered_at"].append(naive_utc(row.ordered_at))
        orders["utc_offset_minutes"].append(row.utc_offset_minutes)
        orders["meal_type"].append(row.meal_type)
        orders["party_size"].append(row.party_size)
        orders["net_cents"].append(row.net_cents)
    lines: dict[str, list[Any]] = {name: [] for name in INPUT_SCHEMAS["lines"].names}
    mods: dict[str, list[Any]] = {name: [] for name in INPUT_SCHEMAS["modifiers"].names}
    for row in () if in_place else repository.counted_line_rows(session, ids):
        if row.member_id not in active:
            continue
        lines["order_id"].append(row.order_id)
        lines["line_no"].append(row.line_no)
        lines["item_id"].append(row.item_id)
        lines["quantity"].append(row.quantity)
        lines["line_total_cents"].append(row.line_total_cents)
        for modifier in _modifiers(row.modifiers):
            mods["order_id"].append(row.order_id)
            mods["line_no"].append(row.line_no)
            mods["modifier"].append(modifier)
    with_orders = active if in_place else set(orders["member_id"])
    needs: dict[str, list[Any]] = {name: [] for name in INPUT_SCHEMAS["needs"].names}
    actor = system_actor("pipeline")
    # Most members have no staff-recorded need: read labels only for those who have one.
    labelled = repository.members_with_labels(session, _NEED_CATEGORY, _NEED_SOURCES, with_orders)
    for member_id in sorted(labelled):
        for label in list_labels(session, keyring, member_id, actor=actor):
            if label["category"] != _NEED_CATEGORY or label["source"] not in _NEED_SOURCES:
                continue
            if not label["text"] or label["status"] != "active":
                continue
            needs["member_id"].append(member_id)
            needs["need"].append(label["text"])
            needs["recorded_at"].append(
                naive_utc(datetime.fromisoformat(label["provenance"]["created_at"]))
            )
    member_cols = {
        "member_id": [m for m, _s in members if m in with_orders],
        "home_store_id": [s for m, s in members if m in with_orders],
    }
    return FeatureInputs(
        orders=pa.table(orders, schema=INPUT_SCHEMAS["orders"]),
        lines=pa.table(lines, schema=INPUT_SCHEMAS["lines"]),
        modifiers=pa.table(mods, schema=INPUT_SCHEMAS["modifiers"]),
        needs=pa.table(needs, schema=INPUT_SCHEMAS["needs"]),
        members=pa.table(member_cols, schema=INPUT_SCHEMAS["members"]),
    )


def counted_orders_table(session: Session) -> pa.Table:
    """The `orders` input alone (every active member's counted orders) as Arrow.

    What chain-wide analytics read (RFM, concentration, lifecycle): no lines, no labels,
    so no decryption and no per-member reads.
    """
    active = {m for m, _s in repository.active_members(session, None)}
    cols: dict[str, list[Any]] = {name: [] for name in INPUT_SCHEMAS["orders"].names}
    for row in repository.counted_order_rows(session, None):
        if row.member_id not in active:
            continue  # erased members keep orders under a pseudonym; they have no profile
        cols["order_id"].append(row.order_id)
        cols["member_id"].append(row.member_id)
        cols["store_id"].append(row.store_id)
        cols["ordered_at"].append(naive_utc(row.ordered_at))
        cols["utc_offset_minutes"].append(row.utc_offset_minutes)
        cols["meal_type"].append(row.meal_type)
        cols["party_size"].append(row.party_size)
        cols["net_cents"].append(row.net_cents)
    return pa.table(cols, schema=INPUT_SCHEMAS["orders"])


def bind_counted_orders(session: Session, con: Any) -> Any:
    """Every active member's counted orders as an Ibis table on `con`.

    On PostgreSQL the engine reads them in place (the counted-orders query compiled
    for it); elsewhere they travel once as Arrow.
    """
    if con.name == "postgres":
        return conform_table(con.sql(in_place_sql(None)["orders"]), "orders")
    return bind_table(con, "orders", counted_orders_table(session))


@dataclass(frozen=True)
class ExportReport:
    """What one export wrote."""

    directory: str
    since: str | None
    to: str
    orders: int
    lines: int
    partitions: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "directory": self.directory,
            "since": self.since,
            "to": self.to,
            "orders": self.orders,
            "lines": self.lines,
            "partitions": self.partitions,
        }


_EXPORT_ORDERS = pa.schema(
    [
        ("order_id", pa.string()),
        ("member_id", pa.string()),
        ("store_id", pa.string()),
        ("ordered_at", pa.timestamp("us")),
        ("utc_offset_minutes", pa.int64()),
        ("meal_type", pa.string()),
        ("party_size", pa.int64()),
        ("total_cents", pa.int64()),
        ("refunded_cents", pa.int64()),
        ("net_cents", pa.int64()),
        ("ingested_at", pa.timestamp("us")),
        ("order_date", pa.string()),
    ]
)
_EXPORT_LINES = pa.schema(
    [
        ("order_id", pa.string()),
        ("member_id", pa.string()),
        ("line_no", pa.int64()),
        ("item_id", pa.string()),
        ("quantity", pa.int64()),
        ("line_total_cents", pa.int64()),
        ("modifiers", pa.list_(pa.string())),
        ("order_date", pa.string()),
    ]
)
WATERMARK_FILE = "_watermark.json"


def export_orders(
    session: Session, directory: Path, *, since: datetime | None, to: datetime
) -> ExportReport:
    """Counted orders and lines ingested in [since, to) as Parquet, partitioned by order date.

    `since` defaults to the watermark left by the previous export in `directory`; after
    writing, the watermark moves to `to`. Files are named by the window, so re-running the
    same window overwrites instead of duplicating. A refund that lands after its order was
    exported re-exports the order (its net changed) in the refund's window: a lake reader
    keeps the latest row per order_id (by ingested window). A void after export is not
    re-exported (the order stops counting): lake readers drop orders absent from a fresh
    full export, or re-export the affected window.
    """
    directory.mkdir(parents=True, exist_ok=True)
    mark = directory / WATERMARK_FILE
    if since is None and mark.exists():
        since = datetime.fromisoformat(json.loads(mark.read_text())["to"])
    counted = counted_orders_query().subquery("counted")
    # New in the window: the order itself, or a refund on it (its net changed).
    refunded = select(OrderAdjustment.order_id).where(
        OrderAdjustment.kind == "refund",
        OrderAdjustment.order_id.is_not(None),
        OrderAdjustment.ingested_at < to,
    )
    in_window = counted.c.ingested_at < to
    if since is not None:
        refunded = refunded.where(OrderAdjustment.ingested_at >= since)
        in_window = and_(in_window, counted.c.ingested_at >= since)
    stmt = select(counted).where(or_(in_window, counted.c.order_id.in_(refunded)))
    rows = list(session.execute(stmt))
    order_ids = [r.order_id for r in rows]
    orders = pa.table(
        {
            "order_id": order_ids,
            "member_id": [r.member_id for r in rows],
            "store_id": [r.store_id for r in rows],
            "ordered_at": [naive_utc(r.ordered_at) for r in rows],
            "utc_offset_minutes": [r.utc_offset_minutes for r in rows],
            "meal_type": [r.meal_type for r in rows],
            "party_size": [r.party_size for r in rows],
            "total_cents": [r.total_cents for r in rows],
            "refunded_cents": [r.refunded_cents for r in rows],
            "net_cents": [r.net_cents for r in rows],
            "ingested_at": [naive_utc(r.ingested_at) for r in rows],
            "order_date": [naive_utc(r.ordered_at).date().isoformat() for r in rows],
        },
        schema=_EXPORT_ORDERS,
    )
    line_cols: dict[str, list[Any]] = {name: [] for name in _EXPORT_LINES.names}
    wanted = set(order_ids)
    lines_stmt = counted_order_lines_query()
    for chunk in repository.chunks(sorted(wanted)):
        sub = lines_stmt.subquery("lines")
        for r in session.execute(select(sub).where(sub.c.order_id.in_(chunk))):
            line_cols["order_id"].append(r.order_id)
            line_cols["member_id"].append(r.member_id)
            line_cols["line_no"].append(r.line_no)
            line_cols["item_id"].append(r.item_id)
            line_cols["quantity"].append(r.quantity)
            line_cols["line_total_cents"].append(r.line_total_cents)
            line_cols["modifiers"].append(_modifiers(r.modifiers))
            line_cols["order_date"].append(naive_utc(r.ordered_at).date().isoformat())
    lines = pa.table(line_cols, schema=_EXPORT_LINES)
    stamp = (
        f"{(since.strftime('%Y%m%dT%H%M%S') if since else 'start')}-{to.strftime('%Y%m%dT%H%M%S')}"
    )
    for name, table in (("orders", orders), ("lines", lines)):
        pads.write_dataset(
            table,
            directory / name,
            format="parquet",
            partitioning=pads.partitioning(pa.schema([("order_date", pa.string())]), flavor="hive"),
            basename_template=f"part-{stamp}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
    partitions = sorted(set(orders.column("order_date").to_pylist()))
    mark.write_text(
        json.dumps({"since": since.isoformat() if since else None, "to": to.isoformat()})
    )
    return ExportReport(
        directory=str(directory),
        since=since.isoformat() if since else None,
        to=to.isoformat(),
        orders=orders.num_rows,
        lines=lines.num_rows,
        partitions=partitions,
    )


def in_place_sql(member_ids: Sequence[str] | None) -> dict[str, str]:
    """PostgreSQL SELECTs for the orders, lines, modifiers and members inputs.

    The PostgreSQL engine runs the features inside the database on these queries (built
    from the counted-orders queries, compiled for PostgreSQL) instead of moving rows
    out: only the staff-recorded needs travel, since their text is decrypted here.
    """
    from sqlalchemy import BigInteger, cast, func
    from sqlalchemy.dialects import postgresql

    from memberops.members.models import Member, MemberStatus

    active = select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    if member_ids is not None:
        active = active.where(Member.id.in_(list(member_ids)))
    counted = counted_orders_query(
        member_ids=list(member_ids) if member_ids is not None else None
    ).subquery("counted")
    orders = select(
        counted.c.order_id,
        counted.c.member_id,
        counted.c.store_id,
        func.timezone("UTC", counted.c.ordered_at).label("ordered_at"),
        cast(counted.c.utc_offset_minutes, BigInteger).label("utc_offset_minutes"),
        counted.c.meal_type,
        cast(counted.c.party_size, BigInteger).label("party_size"),
        cast(counted.c.net_cents, BigInteger).label("net_cents"),
    ).where(counted.c.member_id.in_(active))
    lines_all = counted_order_lines_query(
        member_ids=list(member_ids) if member_ids is not None else None
    ).subquery("lines")
    lines = select(
        lines_all.c.order_id,
        cast(lines_all.c.line_no, BigInteger).label("line_no"),
        lines_all.c.item_id,
        cast(lines_all.c.quantity, BigInteger).label("quantity"),
        cast(lines_all.c.line_total_cents, BigInteger).label("line_total_cents"),
    ).where(lines_all.c.member_id.in_(active))
    with_mods = select(lines_all.c.order_id, lines_all.c.line_no, lines_all.c.modifiers).where(
        lines_all.c.member_id.in_(active)
    )
    members = select(Member.id.label("member_id"), Member.home_store_id).where(
        Member.id.in_(active)
    )

    def sql(stmt: Any) -> str:
        return str(
            stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[no-untyped-call]
        )

    return {
        "orders": sql(orders),
        "lines": sql(lines),
        "modifiers": (
            # Built from compiled SQLAlchemy statements only, never from input.
            "SELECT l.order_id, CAST(l.line_no AS BIGINT) AS line_no, m.value AS modifier "  # noqa: S608
            f"FROM ({sql(with_mods)}) AS l, "
            "json_array_elements_text(l.modifiers::json) AS m(value)"
        ),
        "members": sql(members),
    }
