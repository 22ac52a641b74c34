"""The console at `/`: sign-in, front desk, members, member 360, dashboards (zh, en)."""

__all__ = [
    "auth",
    "cli",
    "endpoints",
    "i18n",
    "models",
    "service",
]
