"""Orders: ingestion of orders, refunds, voids, events and consents, and what counts."""

__all__ = [
    "cli",
    "counted",
    "endpoints",
    "hooks",
    "models",
    "readers",
    "repository",
    "rules",
    "schemas",
    "service",
]
