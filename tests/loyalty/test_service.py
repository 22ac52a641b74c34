"""The loyalty engine over a real database: earning as orders land, de-duplication on the
business document, refunds and the overspent policy, redemptions and cancellations,
expiry, merges and unmerges, the period-end job, explanations, simulation, vouchers,
partners and the quote."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from tests.loyalty.conftest import ADMIN, dinner, load, member_of, refund

from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.errors import Conflict, ValidationError
from memberops.identity.merges import merge_members, unmerge
from memberops.loyalty import service
from memberops.loyalty.models import (
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyLot,
    TierHistory,
    TierState,
)
from memberops.loyalty.rules import DEFAULT_POLICY_TOML, parse_policy, replay_tier
from memberops.members.models import Member
from memberops.runtime import Runtime

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    with use_clock(FixedClock(T0)) as c:
        assert isinstance(c, FixedClock)
        yield c


def points(runtime: Runtime, member_id: str) -> dict[str, int]:
    with transaction(runtime.sessions) as session:
        view = service.points_view(session, member_id=member_id)
    return {k: view[k] for k in ("balance", "owed", "spendable", "lifetime_earned")}


def account(runtime: Runtime, member_id: str) -> tuple[int, int]:
    """(balance, owed) of an account, even of a member merged away."""
    with runtime.sessions() as session:
        acct = session.get(LoyaltyAccount, member_id)
        return (acct.balance, acct.owed) if acct else (0, 0)


def verified(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        result = service.verify_ledger(session)
    assert result.ok, result.problems


def member(runtime: Runtime, order_id: str) -> str:
    with runtime.sessions() as session:
        return member_of(session, order_id)


# ----------------------------------------------------------------------------- earning
def test_order_earns_one_percent_floored_at_order_level(seeded: Runtime, clock: FixedClock) -> None:
    load(seeded, dinner("1", cents=12399))
    m = member(seeded, "1")
    assert points(seeded, m)["balance"] == 123
    with seeded.sessions() as session:
        assert session.get(Member, m).points_balance == 123  # type: ignore[union-attr]
    verified(seeded)


def test_replayed_order_earns_nothing(seeded: Runtime, clock: FixedClock) -> None:
    load(seeded, dinner("1", cents=10000))
    load(seeded, dinner("1", cents=10000))  # the same file again
    m = member(seeded, "1")
    with transaction(seeded.sessions) as session:
        order_id = session.scalar(select(LoyaltyEntry.order_ref))
        assert order_id is not None
        # A POS retry with a fresh request id reaches the hook again with the same order.
        assert service.post_orders(session, [order_id]) == 0
    assert points(seeded, m)["balance"] == 100
    verified(seeded)


def test_late_offline_batch_with_its_refund_first_earns_then_reverses(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, refund("R1", "1", 5000))
    load(seeded, dinner("1", cents=10000))
    m = member(seeded, "1")
    assert points(seeded, m)["balance"] == 50
    load(seeded, refund("R1", "1", 5000))  # replayed refund
    assert points(seeded, m)["balance"] == 50
    verified(seeded)


def test_partial_refunds_reverse_pro_rata_and_a_void_the_rest(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1", cents=10001))
    m = member(seeded, "1")
    load(seeded, refund("R1", "1", 3333))
    assert points(seeded, m)["balance"] == 10001 * 0 + (100 * (10001 - 3333)) // 10001
    load(seeded, refund("V1", "1", None, kind="void"))
    assert points(seeded, m)["balance"] == 0
    verified(seeded)


def test_voided_order_loses_its_points_and_a_replay_does_not_bring_them_back(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1"))
    m = member(seeded, "1")
    load(seeded, refund("V1", "1", None, kind="void"))
    load(seeded, dinner("1"), refund("V1", "1", None, kind="void"))
    assert points(seeded, m)["balance"] == 0
    verified(seeded)


# ----------------------------------------------------------------------------- overspent
def test_refund_after_spending_is_owed_and_clawed_back_from_future_earnings(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1", cents=20000))
    m = member(seeded, "1")
    with transaction(seeded.sessions) as session:
        service.redeem(
            session, member_id=m, points=150, source_system="pos", redemption_id="X", actor=ADMIN
        )
    load(seeded, refund("R1", "1", 20000))
    assert points(seeded, m) == {
        "balance": 0,
        "owed": 150,
        "spendable": -150,
        "lifetime_earned": 200,
    }
    load(seeded, dinner("2", cents=10000))
    assert points(seeded, m)["owed"] == 50 and points(seeded, m)["balance"] == 0
    load(seeded, dinner("3", cents=10000))
    assert points(seeded, m) == {"balance": 50, "owed": 0, "spendable": 50, "lifetime_earned": 400}
    verified(seeded)


def test_negative_bucket_policy_keeps_the_debt_visible_and_new_points_spendable(
    seeded: Runtime, clock: FixedClock
) -> None:
    with transaction(seeded.sessions) as session:
        service.activate_policy(
            session,
            DEFAULT_POLICY_TOML.replace('overspent = "clawback"', 'overspent = "negative_bucket"'),
            actor=ADMIN,
        )
    load(seeded, dinner("1", cents=20000))
    m = member(seeded, "1")
    with transaction(seeded.sessions) as session:
        service.redeem(
            session, member_id=m, points=200, source_system="pos", redemption_id="X", actor=ADMIN
        )
    load(seeded, refund("R1", "1", 20000))
    load(seeded, dinner("2", cents=10000))
    assert points(seeded, m) == {
        "balance": 100,
        "owed": 200,
        "spendable": 100,
        "lifetime_earned": 300,
    }
    with transaction(seeded.sessions) as session:
        service.adjust_points(
            session, member_id=m, points=200, reason="goodwill", adjustment_id="A1", actor=ADMIN
        )
    assert points(seeded, m)["owed"] == 0
    verified(seeded)


# ----------------------------------------------------------------------------- redemption
def test_redemption_never_overdraws_and_a_replay_returns_the_stored_one(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1", cents=30000))
    m = member(seeded, "1")
    with transaction(seeded.sessions) as session:
        first = service.redeem(
            session, member_id=m, points=200, source_system="pos", redemption_id="X", actor=ADMIN
        )
    with transaction(seeded.sessions) as session:
        again = service.redeem(
            session, member_id=m, points=200, source_system="pos", redemption_id="X", actor=ADMIN
        )
    assert again.id == first.id and again.replayed
    with pytest.raises(Conflict), transaction(seeded.sessions) as session:
        service.redeem(
            session, member_id=m, points=101, source_system="pos", redemption_id="Y", actor=ADMIN
        )
    with pytest.raises(Conflict), transaction(seeded.sessions) as session:
        service.redeem(
            session, member_id=m, points=50, source_system="pos", redemption_id="X", actor=ADMIN
        )
    assert points(seeded, m)["balance"] == 100
    verified(seeded)


def test_expired_points_are_never_spendable_and_expire_once(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1", cents=10000, at="2026-03-01T12:00:00+08:00"))
    m = member(seeded, "1")
    clock.set(datetime(2028, 3, 2, 16, 0, tzinfo=UTC))  # 3 March 2028 00:00 local
    with pytest.raises(Conflict), transaction(seeded.sessions) as session:
        service.redeem(
            session, member_id=m, points=1, source_system="pos", redemption_id="X", actor=ADMIN
        )
    with transaction(seeded.sessions) as session:
        assert service.expire_points(session) == 100
    with transaction(seeded.sessions) as session:
        assert service.expire_points(session) == 0
    assert points(seeded, m)["balance"] == 0
    verified(seeded)


def test_lot_expires_at_local_midnight_not_a_second_earlier(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1", cents=10000, at="2026-03-01T12:00:00+08:00"))
    m = member(seeded, "1")
    # Earned on 1 March 2026: expires when 2 March 2028 starts, local time.
    clock.set(datetime(2028, 3, 1, 15, 59, 59, tzinfo=UTC))  # 23:59:59 local on 1 March
    with transaction(seeded.sessions) as session:
        assert service.expire_points(session) == 0
        service.redeem(
            session, member_id=m, points=1, source_system="pos", redemption_id="X", actor=ADMIN
        )
    clock.set(datetime(2028, 3, 1, 16, 0, 0, tzinfo=UTC))  # 00:00:00 local on 2 March
    with transaction(seeded.sessions) as session:
        assert service.expire_points(session) == 99


def test_cancelled_redemption_re_credits_lots_that_expired_meanwhile_as_expired(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1", cents=10000, at="2026-03-01T12:00:00+08:00"))
    load(seeded, dinner("2", cents=20000, at="2027-06-01T12:00:00+08:00"))
    m = member(seeded, "1")
    with transaction(seeded.sessions) as session:
        service.redeem(
            session, member_id=m, points=150, source_system="pos", redemption_id="X", actor=ADMIN
        )
    # 100 came from the 2026 lot, 50 from the 2027 lot; the 2026 lot then expires.
    clock.set(datetime(2028, 4, 1, tzinfo=UTC))
    with transaction(seeded.sessions) as session:
        result = service.cancel_redemption(
            session, source_system="pos", redemption_id="X", actor=ADMIN
        )
    assert result.status == "cancelled"
    assert points(seeded, m)["balance"] == 200
    with transaction(seeded.sessions) as session:
        again = service.cancel_redemption(
            session, source_system="pos", redemption_id="X", actor=ADMIN
        )
        assert again.replayed
        expired = session.scalar(
            select(func.sum(LoyaltyEntry.points)).where(LoyaltyEntry.type == "expire")
        )
    assert expired == -100
    verified(seeded)


# ----------------------------------------------------------------------------- merges
def _two_members(runtime: Runtime) -> tuple[str, str]:
    load(
        runtime,
        dinner("1", cents=30000, phone="13800000001", at="2026-01-05T12:00:00+08:00"),
        dinner("2", cents=10000, phone="13800000002", at="2026-02-05T12:00:00+08:00"),
    )
    return member(runtime, "1"), member(runtime, "2")


def test_merge_moves_balance_and_lots_with_their_expiry_and_unmerge_moves_them_back(
    seeded: Runtime, clock: FixedClock
) -> None:
    a, b = _two_members(seeded)
    with seeded.sessions() as session:
        expiry_b = session.scalar(select(LoyaltyLot.expires_at).where(LoyaltyLot.member_id == b))
    with transaction(seeded.sessions) as session:
        record = merge_members(
            session,
            seeded.keyring,
            survivor_id=a,
            absorbed_id=b,
            evidence=["test"],
            reason="same person",
            actor=ADMIN,
        )
    assert account(seeded, a) == (400, 0) and account(seeded, b) == (0, 0)
    with seeded.sessions() as session:
        moved = session.scalars(
            select(LoyaltyLot).where(LoyaltyLot.member_id == a, LoyaltyLot.merge_ref == record.id)
        ).one()
        assert moved.expires_at == expiry_b and moved.remaining == 100
    verified(seeded)
    with transaction(seeded.sessions) as session:
        unmerge(session, seeded.keyring, merge_id=record.id, actor=ADMIN)
    assert account(seeded, a) == (300, 0) and account(seeded, b) == (100, 0)
    verified(seeded)


def test_unmerge_after_the_survivor_spent_the_absorbed_points_leaves_a_debt_not_a_gap(
    seeded: Runtime, clock: FixedClock
) -> None:
    a, b = _two_members(seeded)
    with transaction(seeded.sessions) as session:
        record = merge_members(
            session,
            seeded.keyring,
            survivor_id=a,
            absorbed_id=b,
            evidence=["test"],
            reason="same person",
            actor=ADMIN,
        )
    with transaction(seeded.sessions) as session:
        service.redeem(
            session, member_id=a, points=350, source_system="pos", redemption_id="X", actor=ADMIN
        )
    with transaction(seeded.sessions) as session:
        unmerge(session, seeded.keyring, merge_id=record.id, actor=ADMIN)
    assert points(seeded, b)["balance"] == 100
    assert points(seeded, a) == {"balance": 0, "owed": 50, "spendable": -50, "lifetime_earned": 300}
    verified(seeded)


def test_merge_keeps_the_better_tier_and_unmerge_restores_both(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(
        seeded,
        *[
            dinner(f"g{i}", cents=150000, phone="13800000001", at=f"2026-01-0{i}T12:00:00+08:00")
            for i in range(1, 5)
        ],
        dinner("s", cents=10000, phone="13800000002", at="2026-02-05T12:00:00+08:00"),
    )
    a, b = member(seeded, "g1"), member(seeded, "s")
    with seeded.sessions() as session:
        assert session.get(TierState, a).tier_code == "gold"  # type: ignore[union-attr]
    with transaction(seeded.sessions) as session:
        record = merge_members(
            session,
            seeded.keyring,
            survivor_id=b,
            absorbed_id=a,
            evidence=["test"],
            reason="same person",
            actor=ADMIN,
        )
    with seeded.sessions() as session:
        assert session.get(TierState, b).tier_code == "gold"  # type: ignore[union-attr]
    with transaction(seeded.sessions) as session:
        unmerge(session, seeded.keyring, merge_id=record.id, actor=ADMIN)
    with seeded.sessions() as session:
        assert session.get(TierState, a).tier_code == "gold"  # type: ignore[union-attr]
        assert session.get(TierState, b).tier_code == "red"  # type: ignore[union-attr]
    verified(seeded)


# ----------------------------------------------------------------------------- tiers
def _year_of_dinners(phone: str, year: int, cents: int, months: range) -> list[dict[str, object]]:
    return [
        dinner(
            f"{phone}-{year}-{m}", cents=cents, phone=phone, at=f"{year}-{m:02d}-05T19:00:00+08:00"
        )
        for m in months
    ]


def test_seed_story_black_to_gold_to_silver_one_level_per_period_end(
    seeded: Runtime, clock: FixedClock
) -> None:
    clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    load(seeded, *_year_of_dinners("13900000001", 2024, 130000, range(1, 11)))
    m = member(seeded, "13900000001-2024-1")
    with seeded.sessions() as session:
        assert session.get(TierState, m).tier_code == "black"  # type: ignore[union-attr]
    load(seeded, *_year_of_dinners("13900000001", 2025, 110000, range(1, 6)))
    seen = []
    for quarter_end in ("2025-04-01", "2025-07-01", "2025-10-01", "2026-01-01", "2026-04-01"):
        at = datetime.fromisoformat(f"{quarter_end}T00:00:00+08:00")
        clock.set(at)
        with transaction(seeded.sessions) as session:
            service.evaluate_tiers(session, as_of=at)
        with seeded.sessions() as session:
            seen.append(session.get(TierState, m).tier_code)  # type: ignore[union-attr]
    # 1 July 2025: 10,700 yuan in the trailing year, below 12,000: Black -> Gold. Gold holds
    # while 5,000 yuan and 4 visits remain in the window; on 1 April 2026 only 2,200 yuan
    # are left: Gold -> Silver. One level per period end, never two.
    assert seen == ["black", "gold", "gold", "gold", "silver"]
    with seeded.sessions() as session:
        history = session.scalars(
            select(TierHistory)
            .where(TierHistory.member_id == m, TierHistory.reason == "downgrade")
            .order_by(TierHistory.at)
        ).all()
        assert [(h.from_code, h.to_code) for h in history] == [
            ("black", "gold"),
            ("gold", "silver"),
        ]
        assert history[0].metrics["spend_cents"] < 1_200_000


def test_period_end_job_is_idempotent(seeded: Runtime, clock: FixedClock) -> None:
    clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    load(seeded, *_year_of_dinners("13900000001", 2024, 130000, range(1, 11)))
    at = datetime.fromisoformat("2026-01-01T00:00:00+08:00")
    clock.set(at)
    with transaction(seeded.sessions) as session:
        first = service.evaluate_tiers(session, as_of=at)
    with seeded.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(TierHistory))
    with transaction(seeded.sessions) as session:
        second = service.evaluate_tiers(session, as_of=at + timedelta(days=3))
    with seeded.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TierHistory)) == rows
    assert first.evaluated == 1 and second.evaluated == 0


def test_incremental_tiers_equal_a_full_replay(seeded: Runtime, clock: FixedClock) -> None:
    clock.set(datetime(2024, 1, 1, tzinfo=UTC))
    spends = [180000, 20000, 90000, 260000, 5000, 40000, 130000, 60000]
    records = []
    for i, cents in enumerate(spends):
        month = 1 + (i * 3) % 12
        year = 2024 + (i * 3) // 12
        records.append(dinner(f"o{i}", cents=cents, at=f"{year}-{month:02d}-10T12:00:00+08:00"))
    m = None
    for quarter in range(0, 9):
        year, month = 2024 + quarter // 4, 1 + (quarter % 4) * 3
        at = datetime.fromisoformat(f"{year}-{month:02d}-01T00:00:00+08:00")
        clock.set(at)
        with transaction(seeded.sessions) as session:
            service.evaluate_tiers(session, as_of=at)
        batch = [r for r in records if str(r["ordered_at"]).startswith(f"{year}-{month:02d}")]
        if batch:
            load(seeded, *batch)
            m = m or member(seeded, str(batch[0]["source_order_id"]))
    assert m is not None
    with seeded.sessions() as session:
        facts = service.repo.counted_facts(session, [m])[m]
        joined = session.get(Member, m).created_at.date()  # type: ignore[union-attr]
        incremental = session.get(TierState, m).tier_code  # type: ignore[union-attr]
    policy = parse_policy(DEFAULT_POLICY_TOML)
    index, _, _ = replay_tier(policy, facts, joined, datetime(2026, 1, 1, 0, 0, tzinfo=UTC))
    assert incremental == policy.tiers[index].code


def test_explain_says_what_is_left_to_keep_the_tier_and_by_when(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, *_year_of_dinners("13900000001", 2025, 100000, range(3, 8)))
    m = member(seeded, "13900000001-2025-3")
    clock.set(datetime(2025, 8, 10, tzinfo=UTC))
    with transaction(seeded.sessions) as session:
        data = service.explain_tier(session, member_id=m)
    assert data["tier"] == "gold"
    assert data["deadline"] == "2025-10-01T00:00:00+08:00"
    assert data["to_keep"]["spend_left_cents"] == 0
    assert data["to_reach_next"] == {
        "tier": "black",
        "name": "Black Sea",
        "spend_left_cents": 700000,
        "visits_left": 1,
    }


def test_manual_override_is_a_floor_until_its_end_date(seeded: Runtime, clock: FixedClock) -> None:
    load(seeded, dinner("1"))
    m = member(seeded, "1")
    with transaction(seeded.sessions) as session:
        service.set_tier_override(
            session,
            member_id=m,
            tier_code="gold",
            reason="complaint recovery",
            until=datetime(2026, 8, 1, tzinfo=UTC),
            actor=ADMIN,
        )
    for at, expected in (("2026-07-01", "gold"), ("2026-10-01", "silver")):
        when = datetime.fromisoformat(f"{at}T00:00:00+08:00")
        clock.set(when)
        with transaction(seeded.sessions) as session:
            service.evaluate_tiers(session, as_of=when)
        with seeded.sessions() as session:
            assert session.get(TierState, m).tier_code == expected  # type: ignore[union-attr]


def test_simulation_counts_who_would_move_without_writing(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, *_year_of_dinners("13900000001", 2025, 100000, range(3, 8)))
    load(seeded, *_year_of_dinners("13900000002", 2025, 30000, range(3, 5)))
    easier = DEFAULT_POLICY_TOML.replace("min_spend_cents = 1200000", "min_spend_cents = 500000")
    easier = easier.replace("min_visits = 6", "min_visits = 5")
    with transaction(seeded.sessions) as session:
        before = session.scalar(select(func.count()).select_from(TierHistory))
        result = service.simulate_policy(
            session, parse_policy(easier), as_of=datetime(2025, 8, 1, tzinfo=UTC)
        )
        assert session.scalar(select(func.count()).select_from(TierHistory)) == before
    assert result["members"] == 2
    assert result["moves_up"] == {"gold->black": 1}
    assert result["diff"][0]["proposed"] == "black"
    cost = result["benefit_cost_12m_cents"]
    assert cost["proposed"] > cost["active"]
    assert service.diff_csv(result).splitlines()[0].startswith("member_id,active,proposed")


def test_policy_history_is_kept_and_a_bad_document_is_refused(
    seeded: Runtime, clock: FixedClock
) -> None:
    with transaction(seeded.sessions) as session:
        service.activate_policy(session, DEFAULT_POLICY_TOML, actor=ADMIN)
        service.activate_policy(
            session, DEFAULT_POLICY_TOML.replace("Sea ladder", "v2"), actor=ADMIN
        )
        with pytest.raises(ValidationError):
            service.activate_policy(session, "[policy]\n", actor=ADMIN)
        history = service.policy_history(session)
    assert [(h["version"], h["status"]) for h in history] == [(2, "active"), (1, "retired")]


# ----------------------------------------------------------------------------- vouchers
def test_quarterly_conversion_statement_voucher_use_and_quote(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1", cents=37000))
    m = member(seeded, "1")
    with transaction(seeded.sessions) as session:
        out = service.convert_vouchers(session, period="2026Q1")
        again = service.convert_vouchers(session, period="2026Q1")
    assert out["points"] == 350 and again["points"] == 0
    assert points(seeded, m)["balance"] == 20  # remainder carried
    with transaction(seeded.sessions) as session:
        data = service.statement(
            session,
            member_id=m,
            start=datetime(2026, 1, 1, tzinfo=UTC),
            end=datetime(2026, 4, 1, tzinfo=UTC),
        )
        html = service.statement_html(data)
    assert data["movements"] == {"earn": 370, "convert": -350}
    assert data["closing"] == 20
    assert sorted(v["value_cents"] for v in data["vouchers"]) == [50, 100, 200]
    assert "Points statement" in html and all(v["code"] in html for v in data["vouchers"])
    code = next(v["code"] for v in data["vouchers"] if v["value_cents"] == 200)
    with transaction(seeded.sessions) as session:
        q = service.quote(session, member_id=m, items=[("BR001", 1)], voucher_codes=[code, "NOPE"])
    assert q["total_cents"] == 6800 - 200
    assert [ln["applied"] for ln in q["lines"] if ln["kind"] == "voucher"] == [True, False]
    with transaction(seeded.sessions) as session:
        service.redeem_voucher(session, code=code, reference="till-1", actor=ADMIN)
        service.redeem_voucher(session, code=code, reference="till-1", actor=ADMIN)  # retry
    with pytest.raises(Conflict), transaction(seeded.sessions) as session:
        service.redeem_voucher(session, code=code, reference="till-2", actor=ADMIN)
    verified(seeded)


def test_partner_conversion_at_the_dated_rate_and_its_reconciliation_file(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, dinner("1", cents=50000))
    m = member(seeded, "1")
    with transaction(seeded.sessions) as session:
        service.set_partner_rate(
            session,
            partner="airline",
            effective_from=datetime(2026, 1, 1, tzinfo=UTC),
            units_per_100_points=30,
        )
        service.set_partner_rate(
            session,
            partner="airline",
            effective_from=datetime(2026, 6, 1, tzinfo=UTC),
            units_per_100_points=10,
        )
        conversion = service.convert_to_partner(
            session, member_id=m, partner="airline", points=333, request_id="P1", actor=ADMIN
        )
    assert (conversion.units, conversion.points) == (99, 330)
    assert points(seeded, m)["balance"] == 170
    with transaction(seeded.sessions) as session:
        text = service.partner_reconciliation(
            session,
            partner="airline",
            start=datetime(2026, 1, 1, tzinfo=UTC),
            end=datetime(2027, 1, 1, tzinfo=UTC),
        )
    assert text.splitlines()[-1] == "TOTAL,,,,330,99,"
    verified(seeded)


def test_a_newcomer_pays_the_public_price_and_a_gold_member_less(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(seeded, *_year_of_dinners("13900000001", 2025, 100000, range(3, 8)))
    m = member(seeded, "13900000001-2025-3")
    with transaction(seeded.sessions) as session:
        newcomer = service.quote(session, member_id=None, items=[("BR001", 2), ("MT001", 1)])
        gold = service.quote(session, member_id=m, items=[("BR001", 2), ("MT001", 1)])
    assert newcomer["total_cents"] == newcomer["public_cents"] == 2 * 6800 + 4800
    assert gold["total_cents"] == 18400 - 18400 * 300 // 10000
