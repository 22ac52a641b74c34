"""API keys: created once, stored as a hash, bound to a role and optionally a store or member;
listed, revoked and expired by admins."""

__all__ = [
    "cli",
    "endpoints",
    "models",
    "service",
]
