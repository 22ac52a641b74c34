"""Members: the member row, its personal fields, the profile read and lookups' results."""

__all__ = [
    "cli",
    "endpoints",
    "hooks",
    "models",
    "ownership",
    "repository",
    "schemas",
    "service",
]
