"""Segment queries of the store mix over the pipeline's per-member metrics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from memberops.pipeline.features import PREMIUM_PERCENTILE, VALUE_PERCENTILE
from memberops.pipeline.models import MemberMetrics

__all__ = ["value_segment_query"]


def value_segment_query(session: Session) -> Select[*tuple[Any, ...]]:
    """Segment field "storemix.value_segment": member_id, value (premium | mainstream |
    value), by the percent rank of spend per person chain-wide (as `store_profiles`)."""
    ranked = select(
        MemberMetrics.member_id.label("member_id"),
        func.percent_rank().over(order_by=MemberMetrics.spend_per_person_cents).label("pr"),
    ).subquery("ranked")
    return select(
        ranked.c.member_id.label("member_id"),
        case(
            (ranked.c.pr >= PREMIUM_PERCENTILE, "premium"),
            (ranked.c.pr <= VALUE_PERCENTILE, "value"),
            else_="mainstream",
        ).label("value"),
    )
