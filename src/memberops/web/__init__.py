"""The console at `/`: sign-in, front desk, members, member 360, dashboards (zh, en)."""

__all__ = [
    "auth",
    "cli",
    "dashboards",
    "endpoints",
    "i18n",
    "loyalty_pages",
    "models",
    "service",
]
