"""Fan levels (hardcore fans, general fans, silent users) and communication power.

Levels come from activity (visits in a trailing window) and repurchase rate (share of
recent months with a visit); communication power from shares, reviews, referrals and the
members those referrals brought (with the revenue they brought). Thresholds and weights:
`FanConfig`, `CommunicationWeights`, docs/analytics.md ("Fan levels").

`SEGMENT_FIELDS` offers the stored values to segment definitions: field name ->
`memberops.types.SegmentField` (kind "number" or "text", a description, and
`query(session)` returning a SQLAlchemy Select of `member_id` and `value`):

- ``fans.level`` (text): hardcore, general or silent;
- ``fans.communication_score`` (number);
- ``fans.visits_window`` (number): visits in the trailing window;
- ``fans.repurchase_rate`` (number, 0..1);
- ``fans.referred_members`` (number): members brought by referrals;
- ``fans.referred_revenue_cents`` (number): their net spend after the referral.
"""

from memberops.fans.repository import column_query
from memberops.fans.rules import (
    LEVELS,
    CommunicationWeights,
    FanConfig,
    communication_score,
    fan_level,
)
from memberops.types import SegmentField

__all__ = [
    "LEVELS",
    "SEGMENT_FIELDS",
    "CommunicationWeights",
    "FanConfig",
    "communication_score",
    "fan_level",
]

SEGMENT_FIELDS: dict[str, SegmentField] = {
    "fans.level": SegmentField(
        "text", "fan level: hardcore, general or silent", column_query("level")
    ),
    "fans.communication_score": SegmentField(
        "number",
        "communication power: weighted shares, reviews, referrals and members brought",
        column_query("communication_score"),
    ),
    "fans.visits_window": SegmentField(
        "number", "visits in the trailing activity window", column_query("visits_window")
    ),
    "fans.repurchase_rate": SegmentField(
        "number", "share of recent months with a visit (0..1)", column_query("repurchase_rate")
    ),
    "fans.referred_members": SegmentField(
        "number", "members brought by the member's referrals", column_query("referred_members")
    ),
    "fans.referred_revenue_cents": SegmentField(
        "number",
        "net spend of the members brought, after their referral (cents)",
        column_query("referred_revenue_cents"),
    ),
}
