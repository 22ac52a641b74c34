"""Member lifecycle: new, active, reactivated, at risk and lapsed at each month end, the
monthly flows between them and cohort retention. The state machine is in
`memberops.lifecycle.rules`; thresholds are documented there and in docs/analytics.md.

`SEGMENT_FIELDS` offers the current state to segment definitions: field name ->
`SegmentField(kind, description, query)`, where `query(session)` is a Select of
(`member_id`, `value`) in the latest month of the latest run:

>>> sorted(SEGMENT_FIELDS)
['lifecycle.state']
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from memberops.lifecycle.models import LifecycleState
from memberops.lifecycle.rules import STATES, LifecycleConfig, classify, member_states
from memberops.types import SegmentField

__all__ = ["SEGMENT_FIELDS", "STATES", "LifecycleConfig", "classify", "member_states"]


def _current_state(session: Session) -> Select[str, str]:
    del session  # part of the contract; the latest month is a subquery
    latest = select(func.max(LifecycleState.month)).scalar_subquery()
    return select(
        LifecycleState.member_id.label("member_id"), LifecycleState.state.label("value")
    ).where(LifecycleState.month == latest)


SEGMENT_FIELDS: dict[str, SegmentField] = {
    "lifecycle.state": SegmentField(
        "text", "lifecycle state now (new, active, reactivated, at risk, lapsed)", _current_state
    ),
}
