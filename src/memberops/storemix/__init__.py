"""Store mix: per store, members by value segment and lifestyle trait, and one line of advice.

`SEGMENT_FIELDS` offers the member's value segment to segment definitions (field name ->
`memberops.types.SegmentField`: kind, description and `query(session)` returning a Select
of `member_id` and `value`):

- ``storemix.value_segment`` (text): premium, mainstream or value, by spend per person
  against the chain (the store profiles' definition).
"""

from memberops.storemix.repository import value_segment_query
from memberops.storemix.rules import MixConfig, Recommendation, recommend
from memberops.types import SegmentField

__all__ = ["SEGMENT_FIELDS", "MixConfig", "Recommendation", "recommend"]

SEGMENT_FIELDS: dict[str, SegmentField] = {
    "storemix.value_segment": SegmentField(
        "text",
        "premium / mainstream / value: spend per person against the chain's 75th and 25th "
        "percent rank (as in store profiles)",
        value_segment_query,
    ),
}
