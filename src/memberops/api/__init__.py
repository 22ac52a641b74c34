"""The HTTP API: app assembly, the dependencies and auth every router shares, and the
one error mapping. Each capability's routes live in its own `endpoints.py`."""

__all__ = [
    "app",
    "auth",
    "deps",
    "errors",
    "health",
    "server",
]
