"""The store-mix recommendation (seed 002: quality where high-end customers dominate,
promotions where low-end ones do, family offers for families)."""

from __future__ import annotations

import pytest

from memberops.storemix.rules import MixConfig, recommend

CONFIG = MixConfig()


@pytest.mark.parametrize(
    ("members", "premium", "value", "family", "code"),
    [
        (19, 0.9, 0.0, 0.0, "too_few_members"),
        (100, 0.40, 0.10, 0.50, "premium_assortment"),  # premium wins over families
        (100, 0.30, 0.20, 0.0, "premium_assortment"),  # thresholds met exactly
        (100, 0.10, 0.45, 0.0, "promotions"),
        (100, 0.35, 0.30, 0.0, "keep_core_menu"),  # premium leads by too little
        (100, 0.35, 0.30, 0.25, "family_offers"),
        (100, 0.20, 0.20, 0.10, "keep_core_menu"),
    ],
)
def test_first_rule_that_applies(
    members: int, premium: float, value: float, family: float, code: str
) -> None:
    advice = recommend(
        members=members,
        premium_share=premium,
        value_share=value,
        family_share=family,
        config=CONFIG,
    )
    assert advice.code == code
    assert advice.text and "\n" not in advice.text
