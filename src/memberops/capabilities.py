"""Assembly: the one place that wires capabilities to each other's extension points.

Identity calls merge handlers and order returners, orders calls order-stored handlers,
and a profile read shows sections without knowing where they come from; this module says
who. It is imported by `memberops.models` (the module that completes the metadata), so
any process that can see every table also has every handler.
"""

from __future__ import annotations

from memberops import concentration, fans, lifecycle, lifestyle, rfm, storemix
from memberops.identity.hooks import register_merge_handler, register_order_returner
from memberops.identity.service import identifiers_section
from memberops.labels.service import sensitive_needs_section, service_needs_section
from memberops.loyalty.service import LoyaltyMergeHandler, LoyaltyOrdersHandler
from memberops.members.hooks import register_computed_groups, register_profile_section
from memberops.orders.hooks import LaterOrdersReturner, register_orders_stored_handler
from memberops.pipeline.serving import read_member_features
from memberops.segments.fields import register_fields

__all__ = ["install"]


def install() -> None:
    """Register every capability's handlers and profile sections (idempotent)."""
    # Loyalty owns points and tiers: its ledger moves them by postings on merges.
    register_merge_handler(LoyaltyMergeHandler())
    register_orders_stored_handler(LoyaltyOrdersHandler())
    register_order_returner(LaterOrdersReturner())
    register_profile_section("identifiers", identifiers_section)
    register_computed_groups(read_member_features)
    register_profile_section("service_needs", service_needs_section)
    register_profile_section("sensitive_needs", sensitive_needs_section)
    # Each analysis offers its latest per-member scores to segment definitions, named
    # `<analysis>_<field>` (rfm_segment, lifecycle_state, fans_level, lifestyle_traits...).
    for analysis in (rfm, concentration, lifecycle, fans, lifestyle, storemix):
        register_fields(
            {
                name.replace(".", "_"): (field.kind, field.description, field.query)
                for name, field in analysis.SEGMENT_FIELDS.items()
            },
            source=analysis.__name__,
        )
