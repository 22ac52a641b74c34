"""What lifestyle scoring reads and writes: counted order lines and the catalog out;
`lifestyle_scores` in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.orm import Session

from memberops.catalog.service import item_traits_source
from memberops.db import bulk_insert
from memberops.lifestyle.features import LINES_SCHEMA
from memberops.lifestyle.models import LifestyleScore
from memberops.orders.counted import counted_order_lines_query
from memberops.pipeline.repository import active_members

__all__ = [
    "catalog_items",
    "lines_table",
    "replace_scores",
    "trait_counts",
    "trait_holders",
    "traits_query",
]


def catalog_items(session: Session) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Every item: (item id, SKU, category, tags)."""
    return [(i, sku, cat, tuple(tags)) for i, sku, cat, tags in item_traits_source(session)]


def lines_table(session: Session, *, since: datetime, until: datetime) -> pa.Table:
    """Lines of active members' counted orders in [since, until)."""
    members = {m for m, _s in active_members(session, None)}
    cols: dict[str, list[Any]] = {name: [] for name in LINES_SCHEMA.names}
    stmt = counted_order_lines_query(ordered_since=since, ordered_until=until)
    for row in session.execute(stmt).yield_per(50_000):
        if row.member_id not in members:
            continue
        cols["member_id"].append(row.member_id)
        cols["item_id"].append(row.item_id)
        cols["quantity"].append(row.quantity)
        cols["line_total_cents"].append(row.line_total_cents)
    return pa.table(cols, schema=LINES_SCHEMA)


def replace_scores(session: Session, rows: list[dict[str, Any]]) -> None:
    """Replace every stored score (a run rescores the whole chain)."""
    if session.get_bind().dialect.name == "postgresql":
        # Two runs at once: the second waits for the first to commit, then deletes its
        # rows (a plain DELETE would miss rows committed after it began and the insert
        # would then collide on the primary key).
        session.execute(text("LOCK TABLE lifestyle_scores IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(delete(LifestyleScore))
    bulk_insert(session, LifestyleScore, rows)


def trait_counts(session: Session) -> tuple[dict[str, int], int, datetime | None]:
    """Members holding each trait, members scored, and the stored run's "as of"."""
    rows = session.execute(
        select(LifestyleScore.trait, func.count())
        .where(LifestyleScore.has_trait.is_(True))
        .group_by(LifestyleScore.trait)
    ).all()
    scored = session.scalar(select(func.count(func.distinct(LifestyleScore.member_id)))) or 0
    as_of = session.scalar(select(func.max(LifestyleScore.as_of)))
    return {trait: int(n) for trait, n in rows}, int(scored), as_of


def trait_holders(session: Session) -> list[tuple[str, str]]:
    """(member id, trait) of every trait a member holds."""
    stmt = select(LifestyleScore.member_id, LifestyleScore.trait).where(
        LifestyleScore.has_trait.is_(True)
    )
    return [(m, t) for m, t in session.execute(stmt)]


def traits_query(session: Session) -> Select[*tuple[Any, ...]]:
    """Segment field "lifestyle.traits": member_id, value (one row per trait held)."""
    return select(
        LifestyleScore.member_id.label("member_id"), LifestyleScore.trait.label("value")
    ).where(LifestyleScore.has_trait.is_(True))
