"""RFM: recency, frequency and monetary scores per member and the named segments.

Scores are quantile bins (quintiles by default) chain-wide or within one store; the
segment rules are in `memberops.rfm.rules` and docs/analytics.md.

`SEGMENT_FIELDS` offers the chain-wide scores to segment definitions: field name ->
`SegmentField(kind, description, query)`, where `query(session)` is a Select of
(`member_id`, `value`) over the latest run:

>>> sorted(SEGMENT_FIELDS)
['rfm.f', 'rfm.m', 'rfm.r', 'rfm.score', 'rfm.segment']
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from memberops.rfm.models import RfmScore
from memberops.rfm.rules import SEGMENTS, RfmConfig, segment_for
from memberops.types import SegmentField

__all__ = ["SEGMENTS", "SEGMENT_FIELDS", "RfmConfig", "segment_for"]


def _chain(column: Any) -> Any:
    def query(session: Session) -> Select[Any]:
        # The session is part of the contract (a field may need to look something up).
        del session
        return select(RfmScore.member_id.label("member_id"), column.label("value")).where(
            RfmScore.scope == "chain"
        )

    return query


SEGMENT_FIELDS: dict[str, SegmentField] = {
    "rfm.segment": SegmentField(
        "text", "RFM segment chain-wide (champions ... lost)", _chain(RfmScore.segment)
    ),
    "rfm.score": SegmentField("number", "R + F + M scores chain-wide", _chain(RfmScore.score)),
    "rfm.r": SegmentField("number", "recency score chain-wide (high = recent)", _chain(RfmScore.r)),
    "rfm.f": SegmentField("number", "frequency score chain-wide", _chain(RfmScore.f)),
    "rfm.m": SegmentField("number", "monetary score chain-wide", _chain(RfmScore.m)),
}
