"""The fan-level thresholds and communication weights, without a database."""

from __future__ import annotations

import pytest

from memberops.fans.rules import CommunicationWeights, FanConfig, communication_score, fan_level

CONFIG = FanConfig()


@pytest.mark.parametrize(
    ("visits", "rate", "level"),
    [
        (6, 0.5, "hardcore"),  # both thresholds met exactly
        (12, 1.0, "hardcore"),
        (6, 0.49, "general"),  # frequent lately but not month after month
        (5, 1.0, "general"),  # loyal but not frequent enough
        (1, 0.1, "general"),
        (0, 1.0, "silent"),  # came every month, then went quiet
        (0, 0.0, "silent"),
    ],
)
def test_levels_follow_the_documented_thresholds(visits: int, rate: float, level: str) -> None:
    assert fan_level(visits, rate, CONFIG) == level


def test_general_fans_can_need_more_visits() -> None:
    config = FanConfig(general_min_visits=2)
    assert fan_level(1, 1.0, config) == "silent"
    assert fan_level(2, 1.0, config) == "general"


def test_score_weights_members_brought_above_talk() -> None:
    weights = CommunicationWeights()
    talker = communication_score(
        shares=5,
        reviews=0,
        referrals=0,
        referred_members=0,
        referred_revenue_cents=0,
        weights=weights,
    )
    bringer = communication_score(
        shares=0,
        reviews=0,
        referrals=1,
        referred_members=1,
        referred_revenue_cents=0,
        weights=weights,
    )
    assert (talker, bringer) == (5.0, 13.0)
    # 250.00 brought adds 2.5 points.
    assert (
        communication_score(
            shares=0,
            reviews=0,
            referrals=0,
            referred_members=0,
            referred_revenue_cents=25_000,
            weights=weights,
        )
        == 2.5
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (FanConfig(window_days=0), "window_days"),
        (FanConfig(repurchase_months=0), "repurchase_months"),
        (FanConfig(general_min_visits=0), "general_min_visits"),
        (FanConfig(hardcore_min_visits=0), "hardcore_min_visits"),
        (FanConfig(hardcore_min_repurchase_rate=1.5), "hardcore_min_repurchase_rate"),
        (FanConfig(weights=CommunicationWeights(share=-1)), "share"),
    ],
)
def test_meaningless_thresholds_are_refused(config: FanConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config.check()
