"""Campaign bonuses over a real database: earned with the order, once per business
document, reversed pro rata by refunds, every skipped campaign explained, validity and
weekdays judged in the chain's local time (Asia/Shanghai, UTC+8)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.loyalty.conftest import ADMIN, dinner, load, member_of, refund

from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.errors import Conflict, ValidationError
from memberops.loyalty import campaigns, service
from memberops.loyalty.campaign_models import CampaignDecision, CampaignHistory
from memberops.loyalty.models import LoyaltyEntry
from memberops.runtime import Runtime

NOW = datetime(2026, 4, 10, 4, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with use_clock(FixedClock(NOW)):
        yield


def create(runtime: Runtime, **doc: Any) -> None:
    base: dict[str, Any] = {
        "code": "DOUBLE",
        "name": "Double points in March",
        "valid_from": "2026-03-01",
        "valid_to": "2026-03-31",
        "multiplier_pct": 200,
    }
    base.update(doc)
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        campaigns.create_campaign(session, base, policy=policy, actor=ADMIN)


def member(runtime: Runtime, order_id: str = "1") -> str:
    with runtime.sessions() as session:
        return member_of(session, order_id)


def view(runtime: Runtime, member_id: str) -> dict[str, Any]:
    with transaction(runtime.sessions) as session:
        return service.points_view(session, member_id=member_id)


def verified(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        result = service.verify_ledger(session)
    assert result.ok, result.problems


def decisions(runtime: Runtime) -> list[tuple[bool, int, str]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(
                CampaignDecision.applied, CampaignDecision.points, CampaignDecision.reason
            ).order_by(CampaignDecision.at, CampaignDecision.id)
        ).all()
    return [(bool(a), int(p), r) for a, p, r in rows]


def test_double_points_campaign_doubles_the_orders_points(seeded: Runtime) -> None:
    create(seeded)
    load(seeded, dinner("1", at="2026-03-10T19:00:00+08:00", cents=10000))
    m = member(seeded)
    data = view(seeded, m)
    assert data["balance"] == 200  # 100 earned at 1% + 100 campaign bonus
    bonus = [e for e in data["history"] if e["counter_account"] == "campaign:DOUBLE"]
    assert len(bonus) == 1 and bonus[0]["points"] == 100
    assert data["campaigns"] == [
        {
            "order_ref": data["campaigns"][0]["order_ref"],
            "campaign": "DOUBLE",
            "applied": True,
            "points": 100,
            "eligible_cents": 10000,
            "reason": "applied",
        }
    ]
    verified(seeded)


def test_replayed_order_never_earns_the_bonus_twice(seeded: Runtime) -> None:
    create(seeded)
    record = dinner("1", at="2026-03-10T19:00:00+08:00", cents=10000)
    load(seeded, record)
    load(seeded, record)
    load(seeded, {**record, "channel": "pos"})  # a POS retry of the same document
    m = member(seeded)
    assert view(seeded, m)["balance"] == 200
    with seeded.sessions() as session:
        bonus_entries = session.scalar(
            select(func.count()).where(LoyaltyEntry.counter_account == "campaign:DOUBLE")
        )
    assert bonus_entries == 1
    assert len(decisions(seeded)) == 1
    verified(seeded)


def test_a_refund_reverses_the_bonus_pro_rata(seeded: Runtime) -> None:
    create(seeded)
    load(seeded, dinner("1", at="2026-03-10T19:00:00+08:00", cents=10000))
    load(seeded, refund("R1", "1", 2500))
    m = member(seeded)
    assert view(seeded, m)["balance"] == 150  # keeps floor(200 * 7500 / 10000)
    load(seeded, refund("R2", "1", 7500))
    assert view(seeded, m)["balance"] == 0
    verified(seeded)


def test_a_minimum_spend_is_never_silently_ignored(seeded: Runtime) -> None:
    create(seeded, min_spend_cents=20000)
    load(seeded, dinner("1", at="2026-03-10T19:00:00+08:00", cents=10000))
    m = member(seeded)
    data = view(seeded, m)
    assert data["balance"] == 100
    (row,) = data["campaigns"]
    assert row["applied"] is False
    assert row["reason"] == "eligible spend 100.00 below the minimum 200.00"


@pytest.mark.parametrize(
    ("at", "applied"),
    [
        ("2026-03-31T23:59:59+08:00", True),  # last second of the last local day
        ("2026-04-01T00:00:00+08:00", False),  # local midnight ends it
        ("2026-03-01T00:00:00+08:00", True),  # first local second (UTC: 28 Feb 16:00)
        ("2026-02-28T23:59:59+08:00", False),
    ],
)
def test_validity_is_judged_in_local_time(seeded: Runtime, at: str, applied: bool) -> None:
    create(seeded)
    load(seeded, dinner("1", at=at, cents=10000))
    (row,) = decisions(seeded)
    assert row[0] is applied
    if not applied:
        assert "outside 2026-03-01 00:00 to 2026-04-01 00:00" in row[2]
        assert at[:10] in row[2] and at[11:19] in row[2]  # the local stamp, not UTC


def test_weekdays_are_local_across_utc_midnight(seeded: Runtime) -> None:
    create(seeded, days=["wed"])
    # 07:00 Wednesday in Beijing is 23:00 Tuesday UTC: it is a Wednesday order.
    load(seeded, dinner("1", at="2026-03-04T07:00:00+08:00", cents=10000))
    # 01:00 Thursday in Beijing is 17:00 Wednesday UTC: not a Wednesday order.
    load(seeded, dinner("2", at="2026-03-05T01:00:00+08:00", cents=10000))
    assert decisions(seeded) == [
        (True, 100, "applied"),
        (False, 0, "ordered on a thu (local), campaign runs wed"),
    ]


def test_member_cap_limits_the_bonus(seeded: Runtime) -> None:
    create(seeded, multiplier_pct=None, fixed_points=50, member_cap_points=80)
    for i in (1, 2, 3):
        load(seeded, dinner(str(i), at=f"2026-03-1{i}T19:00:00+08:00", cents=10000))
    assert decisions(seeded) == [
        (True, 50, "applied"),
        (True, 30, "capped at the member limit of 80"),
        (False, 0, "member cap of 80 points reached"),
    ]
    assert view(seeded, member(seeded))["balance"] == 300 + 80
    verified(seeded)


def test_categories_store_and_tier_filters(seeded: Runtime) -> None:
    create(seeded, categories=["meats"], min_spend_cents=4000)
    create(seeded, code="SH", name="Shanghai only", stores=["SH001"])
    create(seeded, code="GOLD", name="Gold only", tiers=["gold", "black"])
    record = dinner("1", at="2026-03-10T19:00:00+08:00", cents=10000)
    record["lines"] = [
        {"sku": "BR001", "quantity": 1, "unit_price_cents": 6000},
        {"sku": "MT001", "quantity": 1, "unit_price_cents": 4000},
    ]
    record["discount_cents"] = 0
    load(seeded, record)
    with seeded.sessions() as session:
        got = campaigns.order_decisions(
            session, list(session.scalars(select(CampaignDecision.order_ref).distinct()))
        )
    by_code = {d["campaign"]: d for d in got}
    assert by_code["DOUBLE"]["applied"] and by_code["DOUBLE"]["eligible_cents"] == 4000
    assert by_code["DOUBLE"]["points"] == 40  # double points on the meat only
    assert by_code["SH"]["reason"] == "store BJ001 not in the campaign"
    assert by_code["GOLD"]["reason"] == "tier red not in the campaign"


def test_ending_a_campaign_keeps_its_history_and_stops_later_orders(seeded: Runtime) -> None:
    create(seeded, valid_to="2026-12-31")
    with use_clock(FixedClock(datetime(2026, 3, 15, 4, tzinfo=UTC))):
        with transaction(seeded.sessions) as session:
            campaigns.end_campaign(session, "DOUBLE", actor=ADMIN)
        with pytest.raises(Conflict), transaction(seeded.sessions) as session:
            campaigns.end_campaign(session, "DOUBLE", actor=ADMIN)
    load(seeded, dinner("1", at="2026-03-10T19:00:00+08:00", cents=10000))  # late batch
    load(seeded, dinner("2", at="2026-03-20T19:00:00+08:00", cents=10000))
    assert [d[0] for d in decisions(seeded)] == [True, False]
    with seeded.sessions() as session:
        history = session.scalars(select(CampaignHistory.action).order_by(CampaignHistory.version))
        assert list(history) == ["create", "end"]
        _, policy = service.active_policy(session)
        shown = campaigns.campaign_view(
            session, campaigns.get_campaign_or_raise(session, "DOUBLE"), policy.zone
        )
    assert shown["status"] == "ended" and shown["orders_applied"] == 1


def test_bad_campaigns_name_the_field(seeded: Runtime) -> None:
    with pytest.raises(ValidationError) as err:
        create(seeded, tiers=["platinum"])
    assert err.value.field == "tiers"
    with pytest.raises(ValidationError) as err:
        create(seeded, fixed_points=10)
    assert err.value.field == "bonus"
    create(seeded)
    with pytest.raises(Conflict):
        create(seeded)


def test_no_campaign_changes_nothing(seeded: Runtime) -> None:
    load(seeded, dinner("1", at="2026-03-10T19:00:00+08:00", cents=10000))
    assert view(seeded, member(seeded))["balance"] == 100
    assert decisions(seeded) == []
