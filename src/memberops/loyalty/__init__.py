"""Loyalty: tier policies, the points ledger, vouchers, partner conversion, the quote."""

__all__ = [
    "approvals",
    "cli",
    "endpoints",
    "models",
    "repository",
    "rules",
    "schemas",
    "service",
]
