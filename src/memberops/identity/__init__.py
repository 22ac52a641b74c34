"""Identity: resolving records to members, reversible merges, the review queue."""

__all__ = [
    "cli",
    "endpoints",
    "hooks",
    "merges",
    "models",
    "report",
    "repository",
    "resolver",
    "reviews",
    "rules",
    "schemas",
    "service",
]
