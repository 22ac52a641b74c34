"""Visits and visit categories, from counted orders only."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.orders.counted import counted_order_lines_query, counted_orders_query

__all__ = ["counted_visit_items", "counted_visit_times"]


def counted_visit_times(session: Session, *, until: datetime) -> pd.DataFrame:
    """(member_id, ordered_at) of every counted order before `until`."""
    orders = counted_orders_query(ordered_until=until).subquery("counted")
    rows = session.execute(select(orders.c.member_id, orders.c.ordered_at)).all()
    return pd.DataFrame(rows, columns=["member_id", "ordered_at"])


def counted_visit_items(session: Session, *, until: datetime) -> pd.DataFrame:
    """(member_id, ordered_at, item_id) of every line of a counted order before `until`."""
    lines = counted_order_lines_query(ordered_until=until).subquery("lines")
    rows = session.execute(
        select(lines.c.member_id, lines.c.ordered_at, lines.c.item_id).distinct()
    ).all()
    return pd.DataFrame(rows, columns=["member_id", "ordered_at", "item_id"])
