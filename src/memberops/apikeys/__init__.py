"""API keys: created once, stored as a hash, bound to a role and optionally a store or member."""

__all__ = [
    "cli",
    "models",
    "service",
]
