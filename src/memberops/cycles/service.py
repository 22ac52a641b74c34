"""Purchase cycles on the live chain and the due list for reminders."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from memberops.catalog.service import item_categories
from memberops.cycles.repository import counted_visit_items, counted_visit_times
from memberops.cycles.rules import CycleConfig, gap_histogram, visit_cycles

__all__ = ["member_cycles"]


def member_cycles(
    session: Session,
    *,
    now: datetime,
    by_category: bool = False,
    category: str | None = None,
    config: CycleConfig | None = None,
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """Per member (or member x category) cycle rows and the chain's gap histogram."""
    if not by_category and category is None:
        visits = counted_visit_times(session, until=now)
        keys: tuple[str, ...] = ("member_id",)
    else:
        visits = counted_visit_items(session, until=now)
        catalog = item_categories(session)
        visits["category"] = [catalog.get(i, ("", "", "unknown"))[2] for i in visits["item_id"]]
        if category is not None:
            visits = visits[visits["category"] == category]
        keys = ("member_id", "category")
    cycles = visit_cycles(visits, as_of=now, keys=keys, config=config)
    histogram = gap_histogram(visits, keys=keys) if len(visits) else []
    return cycles, histogram
