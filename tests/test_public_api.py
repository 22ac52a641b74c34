"""The public surface is explicit and pinned: each package's `__all__` is written down here,
so adding, renaming or dropping a public module or name is a visible change; every module
declares `__all__`, and every name it lists exists."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import pytest

import memberops

PACKAGES: dict[str, list[str]] = {
    "memberops": ["__version__"],
    "memberops.api": ["app", "auth", "deps", "errors", "health", "server"],
    "memberops.apikeys": ["cli", "endpoints", "models", "service"],
    "memberops.baskets": ["association_rules", "frequent_itemsets"],
    "memberops.catalog": ["models", "service"],
    "memberops.cli": ["common", "main"],
    "memberops.clv": [
        "BetaGeo",
        "GammaGamma",
        "customer_lifetime_value",
        "split_calibration_holdout",
        "summarise_transactions",
    ],
    "memberops.concentration": [
        "SEGMENT_FIELDS",
        "concentration_curve",
        "gini",
        "top_count",
        "top_share",
    ],
    "memberops.cycles": ["CycleConfig", "visit_cycles"],
    "memberops.demo": ["cli", "load", "menu", "simulate"],
    "memberops.fans": [
        "CommunicationWeights",
        "FanConfig",
        "LEVELS",
        "SEGMENT_FIELDS",
        "communication_score",
        "fan_level",
    ],
    "memberops.segments": [
        "ExpressionError",
        "Field",
        "all_fields",
        "check_expression",
        "format_expression",
        "parse_expression",
        "register_field",
        "register_fields",
    ],
    "memberops.identity": [
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
    ],
    "memberops.labels": ["Screening", "Span", "Verdict", "screen"],
    "memberops.lifecycle": [
        "LifecycleConfig",
        "SEGMENT_FIELDS",
        "STATES",
        "classify",
        "member_states",
    ],
    "memberops.lifestyle": [
        "LifestyleMapping",
        "SEGMENT_FIELDS",
        "SENSITIVE_KINDS",
        "Trait",
        "parse_mapping",
        "refusal_reason",
    ],
    "memberops.loyalty": [
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
    ],
    "memberops.members": [
        "cli",
        "endpoints",
        "hooks",
        "models",
        "ownership",
        "repository",
        "schemas",
        "service",
    ],
    "memberops.orders": [
        "cli",
        "counted",
        "endpoints",
        "hooks",
        "models",
        "readers",
        "repository",
        "rules",
        "schemas",
        "service",
    ],
    "memberops.pipeline": [
        "ENGINES",
        "FeatureInputs",
        "bind_inputs",
        "chain_feature_exprs",
        "connect",
        "execute",
        "member_feature_exprs",
        "spark_session",
    ],
    "memberops.privacy": [
        "audit",
        "cli",
        "consent",
        "crypto",
        "endpoints",
        "key_records",
        "keys",
        "models",
        "rights",
        "rules",
        "schemas",
    ],
    "memberops.rfm": ["RfmConfig", "SEGMENTS", "SEGMENT_FIELDS", "segment_for"],
    "memberops.servicedesk": ["cli", "endpoints", "models", "rules", "schemas", "service"],
    "memberops.storemix": ["MixConfig", "Recommendation", "SEGMENT_FIELDS", "recommend"],
    "memberops.web": [
        "auth",
        "cli",
        "dashboards",
        "endpoints",
        "i18n",
        "loyalty_pages",
        "models",
        "service",
    ],
}


def _modules() -> list[str]:
    """Every module of the package (migrations are Alembic scripts, not an API)."""
    return sorted(
        info.name
        for info in pkgutil.walk_packages(memberops.__path__, "memberops.")
        if ".migrations" not in info.name
    )


def _packages() -> list[str]:
    return ["memberops"] + [
        f"memberops.{info.name}"
        for info in pkgutil.iter_modules(memberops.__path__)
        if info.ispkg and info.name != "migrations"
    ]


def test_every_package_is_pinned() -> None:
    assert sorted(_packages()) == sorted(PACKAGES)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_all_is_pinned(package: str) -> None:
    assert sorted(importlib.import_module(package).__all__) == PACKAGES[package]


@pytest.mark.parametrize("name", _modules())
def test_every_module_declares_all_and_every_listed_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    for item in exported:
        found = hasattr(module, item) or importlib.util.find_spec(f"{name}.{item}") is not None
        assert found, f"{name}.__all__ lists {item!r}, which does not exist"
