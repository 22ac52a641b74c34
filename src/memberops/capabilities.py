"""Assembly: the one place that wires capabilities to each other's extension points.

Identity calls merge handlers without knowing who registered them; this module says who.
It is imported by `memberops.models` (the module that completes the metadata), so any
process that can see every table also has every handler.
"""

from __future__ import annotations

from memberops.identity.hooks import register_merge_handler
from memberops.members.hooks import PointsBalanceHandler

__all__ = ["install"]


def install() -> None:
    """Register every capability's merge handlers (idempotent)."""
    register_merge_handler(PointsBalanceHandler())
