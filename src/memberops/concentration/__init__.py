"""Revenue concentration (80/20): the curve, the top-20% list and the Gini coefficient,
chain-wide and per store. The math is in `memberops.concentration.rules`.

`SEGMENT_FIELDS` offers chain-wide values to segment definitions: field name ->
`SegmentField(kind, description, query)`, where `query(session)` is a Select of
(`member_id`, `value`) over the latest run:

>>> sorted(SEGMENT_FIELDS)
['concentration.spend_cents', 'concentration.spend_rank']
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from memberops.concentration.models import ConcentrationMember
from memberops.concentration.rules import concentration_curve, gini, top_count, top_share
from memberops.types import SegmentField

__all__ = ["SEGMENT_FIELDS", "concentration_curve", "gini", "top_count", "top_share"]


def _chain(column: Any) -> Any:
    def query(session: Session) -> Select[Any]:
        del session  # part of the contract; this field needs no lookup
        return select(
            ConcentrationMember.member_id.label("member_id"), column.label("value")
        ).where(ConcentrationMember.scope == "chain")

    return query


SEGMENT_FIELDS: dict[str, SegmentField] = {
    "concentration.spend_rank": SegmentField(
        "number", "rank by net spend chain-wide (1 = highest)", _chain(ConcentrationMember.rank)
    ),
    "concentration.spend_cents": SegmentField(
        "number", "net spend chain-wide, in cents", _chain(ConcentrationMember.spend_cents)
    ),
}
