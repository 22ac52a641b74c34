"""The catalog: stores (with their time zones) and menu items."""

__all__ = [
    "models",
    "service",
]
