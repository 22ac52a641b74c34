"""memberops: member operations for multi-store restaurant chains and retailers."""

__all__ = ["__version__"]

__version__ = "0.1.0"
