"""Order lines as baskets: counted orders only, through the one definition."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.orders.counted import counted_order_lines_query

__all__ = ["counted_baskets"]


def counted_baskets(
    session: Session,
    *,
    store_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """(basket_id, item_id, store_id) rows: one per line of a counted order."""
    lines = counted_order_lines_query(ordered_since=since, ordered_until=until).subquery("lines")
    stmt = select(lines.c.order_id, lines.c.item_id, lines.c.store_id)
    if store_id is not None:
        stmt = stmt.where(lines.c.store_id == store_id)
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["basket_id", "item_id", "store_id"])
