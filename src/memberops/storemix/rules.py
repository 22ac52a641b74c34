"""The store-mix recommendation: one documented rule, no I/O.

Seed 002: Tesco watched the customers around each store; where high-end customers
dominate, the store stocks for quality, where low-end customers dominate, it runs
discount promotions; families get their own offers. Value segments are the pipeline's
(`premium`: spend per person at or above the chain's 75th percent rank; `value`: at or
below the 25th, see `memberops.pipeline.features.store_profiles`), traits come from the
lifestyle mapping. docs/analytics.md ("Store mix") states the rule in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MixConfig", "Recommendation", "recommend"]

RecommendationCode = Literal[
    "too_few_members", "premium_assortment", "promotions", "family_offers", "keep_core_menu"
]


@dataclass(frozen=True)
class MixConfig:
    """Thresholds of the recommendation (shares are of the store's home members)."""

    min_members: int = 20
    premium_min_share: float = 0.3
    value_min_share: float = 0.3
    # The leading segment must lead the other by this much: a store with as many premium
    # as value members is mixed, not premium.
    lead_margin: float = 0.1
    family_min_share: float = 0.25
    family_trait: str = "family_with_children"


@dataclass(frozen=True)
class Recommendation:
    """What to do at one store: a stable code and a one-line sentence."""

    code: RecommendationCode
    text: str


def _lead(ahead: float, behind: float) -> float:
    # Rounded: 0.3 - 0.2 is 0.0999... in binary, and a documented margin of 0.1 must hold.
    return round(ahead - behind, 9)


def recommend(
    *,
    members: int,
    premium_share: float,
    value_share: float,
    family_share: float,
    config: MixConfig,
) -> Recommendation:
    """The first rule that applies, in this order:

    1. fewer than `min_members` home members: too few to say;
    2. premium share at least `premium_min_share` and ahead of value by `lead_margin`:
       premium assortment;
    3. value share at least `value_min_share` and ahead of premium by `lead_margin`:
       promotions;
    4. family share at least `family_min_share`: family offers;
    5. otherwise: keep the core menu.

    >>> recommend(members=100, premium_share=0.4, value_share=0.1, family_share=0.3,
    ...     config=MixConfig()).code
    'premium_assortment'
    """
    if members < config.min_members:
        return Recommendation(
            "too_few_members",
            f"Only {members} home members (fewer than {config.min_members}): no recommendation.",
        )
    if (
        premium_share >= config.premium_min_share
        and _lead(premium_share, value_share) >= config.lead_margin
    ):
        return Recommendation(
            "premium_assortment",
            f"Premium assortment: {premium_share:.0%} of members are premium "
            f"(value {value_share:.0%}); stock for quality, not discounts.",
        )
    if (
        value_share >= config.value_min_share
        and _lead(value_share, premium_share) >= config.lead_margin
    ):
        return Recommendation(
            "promotions",
            f"Promotions: {value_share:.0%} of members are value-seeking "
            f"(premium {premium_share:.0%}); run discount offers.",
        )
    if family_share >= config.family_min_share:
        return Recommendation(
            "family_offers",
            f"Family offers: {family_share:.0%} of members order for children; "
            "promote kids' menus and family sets.",
        )
    return Recommendation(
        "keep_core_menu",
        f"Keep the core menu: a mixed base (premium {premium_share:.0%}, "
        f"value {value_share:.0%}, families {family_share:.0%}).",
    )
