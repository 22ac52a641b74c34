"""Loyalty: tier policies, the points ledger, vouchers, partner conversion, the quote,
campaign bonuses, coupons and request idempotency keys."""

__all__ = [
    "approvals",
    "campaign_cli",
    "campaign_endpoints",
    "campaign_models",
    "campaign_rules",
    "campaign_schemas",
    "campaigns",
    "cli",
    "coupons",
    "endpoints",
    "idempotency",
    "models",
    "repository",
    "rules",
    "schemas",
    "service",
]
