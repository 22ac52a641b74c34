"""Lifestyle segments: traits read from what members order, through a checked mapping.

The default mapping ships as `memberops/lifestyle/mapping.toml`; any other is read with
`parse_mapping`, which refuses traits the label guard refuses or holds as sensitive and
traits naming a sensitive kind (docs/analytics.md, "Lifestyle segments").

`SEGMENT_FIELDS` offers the stored traits to segment definitions: field name ->
`memberops.types.SegmentField` (kind, description, `query(session)` returning a Select
of `member_id` and `value`):

- ``lifestyle.traits`` (text, several rows per member): the traits a member holds.
"""

from memberops.lifestyle.repository import traits_query
from memberops.lifestyle.rules import (
    SENSITIVE_KINDS,
    LifestyleMapping,
    Trait,
    parse_mapping,
    refusal_reason,
)
from memberops.types import SegmentField

__all__ = [
    "SEGMENT_FIELDS",
    "SENSITIVE_KINDS",
    "LifestyleMapping",
    "Trait",
    "parse_mapping",
    "refusal_reason",
]

SEGMENT_FIELDS: dict[str, SegmentField] = {
    "lifestyle.traits": SegmentField(
        "text", "lifestyle traits the member holds (one row per trait)", traits_query
    ),
}
