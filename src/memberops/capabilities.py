"""Assembly: the one place that wires capabilities to each other's extension points.

Identity calls merge handlers and orders calls order-stored handlers without knowing who
registered them; this module says who. It is imported by `memberops.models` (the module
that completes the metadata), so any process that can see every table also has every
handler.
"""

from __future__ import annotations

from memberops.identity.hooks import register_merge_handler
from memberops.loyalty.service import LoyaltyMergeHandler, LoyaltyOrdersHandler
from memberops.orders.hooks import register_orders_stored_handler

__all__ = ["install"]


def install() -> None:
    """Register every capability's handlers (idempotent)."""
    # Loyalty owns points and tiers: its ledger moves them by postings on merges.
    register_merge_handler(LoyaltyMergeHandler())
    register_orders_stored_handler(LoyaltyOrdersHandler())
