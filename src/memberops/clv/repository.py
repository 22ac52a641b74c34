"""The visits CLV is fitted on: counted orders, read through the one definition."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.orders.counted import counted_orders_query

__all__ = ["counted_visits"]


def counted_visits(session: Session, *, until: datetime) -> pd.DataFrame:
    """member_id, ordered_at (UTC), net_cents and store_id of every counted order before
    `until`."""
    counted = counted_orders_query(ordered_until=until).subquery("counted")
    rows = session.execute(
        select(counted.c.member_id, counted.c.ordered_at, counted.c.net_cents, counted.c.store_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["member_id", "ordered_at", "net_cents", "store_id"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True)
    frame["net_cents"] = frame["net_cents"].astype("int64")
    return frame
