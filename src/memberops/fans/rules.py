"""Fan levels and communication power: the documented thresholds and weights, as pure rules.

Seed 003 sorts members by activity and repurchase rate into three levels and asks for
the members with "communication power" (seed 001: those who share, interact and bring
others). The numbers these rules read are computed by `memberops.fans.features`;
docs/analytics.md ("Fan levels") states every threshold and weight in words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

__all__ = [
    "LEVELS",
    "CommunicationWeights",
    "FanConfig",
    "FanLevel",
    "communication_score",
    "fan_level",
]

FanLevel = Literal["hardcore", "general", "silent"]
# Highest first: the order reports and pictures list them in.
LEVELS: tuple[FanLevel, ...] = ("hardcore", "general", "silent")


@dataclass(frozen=True)
class CommunicationWeights:
    """Points per share, review and referral made, per member brought (a referred member
    who then ordered) and per 100.00 of net spend those members brought.

    A member brought counts far more than a referral sent: it is what the referral was
    for; a share is the cheapest act, a review takes effort and is public.
    """

    share: float = 1.0
    review: float = 2.0
    referral: float = 3.0
    member_brought: float = 10.0
    per_100_brought: float = 1.0

    def check(self) -> None:
        """Refuse a negative weight, naming it."""
        for name, value in asdict(self).items():
            if value < 0:
                raise ValueError(f"weight {name} must not be negative")


@dataclass(frozen=True)
class FanConfig:
    """Thresholds of the fan levels.

    - activity: visits in the trailing `window_days` before "as of";
    - repurchase rate: the share of calendar months with a visit among the last
      `repurchase_months` months (counted from the member's first visit when that is
      more recent, so a member who joined last month is not diluted by months before);
    - hardcore fan: at least `hardcore_min_visits` visits in the window AND a repurchase
      rate of at least `hardcore_min_repurchase_rate`;
    - general fan: at least `general_min_visits` visits in the window;
    - silent user: everyone else (bought, then went quiet).
    """

    window_days: int = 90
    repurchase_months: int = 12
    hardcore_min_visits: int = 6
    hardcore_min_repurchase_rate: float = 0.5
    general_min_visits: int = 1
    weights: CommunicationWeights = CommunicationWeights()

    def check(self) -> None:
        """Refuse meaningless thresholds, naming the field (ValueError)."""
        if self.window_days < 1:
            raise ValueError("window_days must be at least 1")
        if self.repurchase_months < 1:
            raise ValueError("repurchase_months must be at least 1")
        if self.general_min_visits < 1:
            raise ValueError("general_min_visits must be at least 1")
        if self.hardcore_min_visits < self.general_min_visits:
            raise ValueError("hardcore_min_visits must be at least general_min_visits")
        if not 0 <= self.hardcore_min_repurchase_rate <= 1:
            raise ValueError("hardcore_min_repurchase_rate must be in [0, 1]")
        self.weights.check()


def fan_level(visits_window: int, repurchase_rate: float, config: FanConfig) -> FanLevel:
    """The member's level from their activity and repurchase rate (see `FanConfig`).

    >>> fan_level(8, 0.75, FanConfig())
    'hardcore'
    >>> fan_level(8, 0.25, FanConfig())
    'general'
    >>> fan_level(0, 1.0, FanConfig())
    'silent'
    """
    if (
        visits_window >= config.hardcore_min_visits
        and repurchase_rate >= config.hardcore_min_repurchase_rate
    ):
        return "hardcore"
    if visits_window >= config.general_min_visits:
        return "general"
    return "silent"


def communication_score(
    *,
    shares: int,
    reviews: int,
    referrals: int,
    referred_members: int,
    referred_revenue_cents: int,
    weights: CommunicationWeights,
) -> float:
    """Communication power: the weighted sum of what the member said and whom they brought.

    >>> communication_score(shares=2, reviews=1, referrals=1, referred_members=1,
    ...     referred_revenue_cents=25_000, weights=CommunicationWeights())
    19.5
    """
    score = (
        weights.share * shares
        + weights.review * reviews
        + weights.referral * referrals
        + weights.member_brought * referred_members
        + weights.per_100_brought * referred_revenue_cents / 10_000
    )
    # Rounded so the same inputs give the same stored score on every engine.
    return round(score, 4)
