"""The service desk: complaints with SLAs on opening hours, call-backs, surveys, NPS."""

__all__ = [
    "cli",
    "endpoints",
    "models",
    "rules",
    "schemas",
    "service",
]
