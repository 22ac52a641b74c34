"""Purchase cycles: how often each member comes back, when next, and who is overdue."""

from memberops.cycles.rules import CycleConfig, visit_cycles

__all__ = ["CycleConfig", "visit_cycles"]
