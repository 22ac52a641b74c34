"""Reading the computed profile: primary-key reads plus values derived at read time.

The transaction group adds, to what the refresh stored, the clock-driven values as of
the read (recency, tenure, visits per month) and the spend rank and percentile chain-wide
and in the home store, from indexed counts over `member_metrics`. The personalised group
adds "same as last time" and the quarterly taste history. Each group carries the
watermark and "as of" it reflects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.db import utcnow
from memberops.members.models import MemberProfile
from memberops.pipeline import repository
from memberops.pipeline.models import (
    MemberLastVisit,
    MemberMetrics,
    MemberTasteSnapshot,
    PipelineWatermark,
    StoreProfile,
)
from memberops.pipeline.rules import clock_values, percent_rank

__all__ = ["read_member_features", "read_store_profile", "read_watermarks"]


def read_watermarks(session: Session) -> dict[str, dict[str, Any]]:
    """Feature group -> {watermark, as_of, engine, full}."""
    out: dict[str, dict[str, Any]] = {}
    for row in session.scalars(select(PipelineWatermark)):
        out[row.feature_group] = {
            "watermark": row.watermark.isoformat() if row.watermark else None,
            "as_of": row.as_of.isoformat(),
            "engine": row.engine,
            "full": row.full,
        }
    return out


def read_member_features(
    session: Session, member_id: str, *, now: datetime | None = None
) -> dict[str, dict[str, Any] | None]:
    """The transaction and personalised groups of one member (None before any refresh)."""
    profile = session.get(MemberProfile, member_id)
    metrics = session.get(MemberMetrics, member_id)
    if profile is None or metrics is None:
        return {"transaction": None, "personalised": None}
    as_of = now or utcnow()
    marks = read_watermarks(session)
    counts = repository.rank_counts(session, metrics)
    transaction = {
        **profile.transaction,
        **clock_values(
            first_visit_at=metrics.first_visit_at,
            last_visit_at=metrics.last_visit_at,
            visits=metrics.visits,
            as_of=as_of,
        ),
        "spend_rank": counts["above"] + 1,
        "spend_percentile": percent_rank(below=counts["below"], total=counts["total"]),
        "home_store_rank": counts["store_above"] + 1,
        "home_store_percentile": percent_rank(
            below=counts["store_below"], total=counts["store_total"]
        ),
        "home_store_members": counts["store_total"],
        "as_of": as_of.isoformat(),
        "watermark": marks.get("transaction", {}).get("watermark"),
    }
    last = session.get(MemberLastVisit, member_id)
    history = session.scalars(
        select(MemberTasteSnapshot)
        .where(MemberTasteSnapshot.member_id == member_id)
        .order_by(MemberTasteSnapshot.quarter)
    )
    personalised = {
        **profile.personalised,
        "same_as_last_time": (
            {
                "store_id": last.store_id,
                "visited_at": last.started_at.isoformat(),
                "meal_type": last.meal_type,
                "lines": last.lines,
            }
            if last
            else None
        ),
        "history": [
            {
                "quarter": s.quarter,
                "visits": s.visits,
                "spend_cents": s.spend_cents,
                "top_dishes": s.top_dishes,
            }
            for s in history
        ],
        "as_of": profile.computed_at.isoformat(),
        "watermark": marks.get("personalised", {}).get("watermark"),
    }
    return {"transaction": transaction, "personalised": personalised}


def read_store_profile(session: Session, store_id: str) -> dict[str, Any] | None:
    """One store's profile (None before any refresh)."""
    row = session.get(StoreProfile, store_id)
    if row is None:
        return None
    return {
        c: getattr(row, c) if c != "as_of" else row.as_of.isoformat()
        for c in StoreProfile.__table__.columns.keys()  # noqa: SIM118 - a ColumnCollection
    }
