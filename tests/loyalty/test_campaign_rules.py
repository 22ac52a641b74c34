"""Campaign, coupon and idempotency rules without a database, and the quote's fairness
properties extended to coupons and campaigns (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memberops.errors import ValidationError
from memberops.loyalty.campaign_rules import (
    IDEMPOTENCY_TTL,
    BasketLine,
    CampaignRule,
    CouponRule,
    OrderForBonus,
    campaign_bonus,
    campaign_from,
    coupon_from,
    coupon_value,
    idempotency_expires_at,
    local_instant,
)
from memberops.loyalty.rules import earn_points, quote_basket

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 2, 28, 16, tzinfo=UTC)  # 1 March, local midnight
END = datetime(2026, 3, 31, 16, tzinfo=UTC)  # 1 April, local midnight
CATEGORIES = {"BR001": "broths", "MT001": "meats", "VG001": "vegetables"}


def rule(**kw: object) -> CampaignRule:
    base: dict[str, object] = {
        "code": "C",
        "name": "C",
        "valid_from": START,
        "valid_to": END,
        "multiplier_pct": 200,
    }
    base.update(kw)
    return CampaignRule(**base)  # type: ignore[arg-type]


def order(cents: int = 10000, at: datetime | None = None, **kw: object) -> OrderForBonus:
    base: dict[str, object] = {
        "ordered_at": at or datetime(2026, 3, 10, 11, tzinfo=UTC),
        "store_code": "BJ001",
        "tier_code": "red",
        "total_cents": cents,
        "subtotal_cents": cents,
        "lines": (BasketLine("BR001", "broths", cents),),
        "earn_rate_bp": 100,
        "tier_multiplier_pct": 100,
    }
    base.update(kw)
    return OrderForBonus(**base)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- parsing
def test_dates_are_local_midnights_and_an_end_date_is_inclusive() -> None:
    parsed = campaign_from(
        {
            "code": "X",
            "name": "X",
            "valid_from": "2026-03-01",
            "valid_to": "2026-03-31",
            "fixed_points": 10,
        },
        ZONE,
    )
    assert (parsed.valid_from, parsed.valid_to) == (START, END)
    assert local_instant("2026-03-01T08:00", ZONE, record="r", field="f", end=False) == datetime(
        2026, 3, 1, 0, tzinfo=UTC
    )
    assert local_instant("2026-03-01T08:00+00:00", ZONE, record="r", field="f", end=False) == (
        datetime(2026, 3, 1, 8, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "bad code!"}, "code"),
        ({"valid_to": "2026-02-01"}, "valid_to"),
        ({"valid_from": "soon"}, "valid_from"),
        ({"fixed_points": 5}, "bonus"),
        ({"multiplier_pct": 100}, "multiplier_pct"),
        ({"days": ["funday"]}, "days"),
        ({"min_spend_cents": -1}, "min_spend_cents"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_campaign_names_its_field(change: dict[str, object], field: str) -> None:
    doc: dict[str, object] = {
        "code": "X",
        "name": "X",
        "valid_from": "2026-03-01",
        "valid_to": "2026-03-31",
        "multiplier_pct": 200,
    }
    doc.update(change)
    with pytest.raises(ValidationError) as err:
        campaign_from(doc, ZONE)
    assert err.value.field == field


def test_a_bad_coupon_names_its_field() -> None:
    doc = {
        "code": "X",
        "name": "X",
        "kind": "percent",
        "value": 20000,
        "valid_from": "2026-03-01",
        "valid_to": "2026-03-31",
    }
    with pytest.raises(ValidationError) as err:
        coupon_from(doc, ZONE)
    assert err.value.field == "value"
    with pytest.raises(ValidationError) as err:
        coupon_from({**doc, "kind": "bogof"}, ZONE)
    assert err.value.field == "kind"


# ----------------------------------------------------------------------------- bonuses
def test_double_points_adds_the_orders_points_once_more() -> None:
    decision = campaign_bonus(rule(), order(12345, tier_multiplier_pct=150), ZONE)
    assert decision.applied and decision.points == earn_points(12345, 100, 150) == 185


def test_the_boundaries_are_local() -> None:
    last = datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 local
    assert campaign_bonus(rule(), order(at=last), ZONE).applied
    missed = campaign_bonus(rule(), order(at=END), ZONE)
    assert not missed.applied
    assert missed.reason.startswith("ordered 2026-04-01 00:00:00 local, outside")


def test_discounts_are_shared_out_to_filtered_lines() -> None:
    lines = (BasketLine("BR001", "broths", 6000), BasketLine("MT001", "meats", 4000))
    decision = campaign_bonus(
        rule(categories=("meats",)),
        order(9000, subtotal_cents=10000, lines=lines),
        ZONE,
    )
    assert decision.eligible_cents == 3600 and decision.points == 36


def test_cap_and_min_spend_reasons() -> None:
    capped = campaign_bonus(rule(member_cap_points=120), order(), ZONE, awarded_before=50)
    assert (capped.points, capped.reason) == (70, "capped at the member limit of 120")
    low = campaign_bonus(rule(min_spend_cents=10001), order(), ZONE)
    assert low.reason == "eligible spend 100.00 below the minimum 100.01"


orders = st.builds(
    order,
    cents=st.integers(0, 10**7),
    at=st.datetimes(
        min_value=datetime(2026, 2, 20), max_value=datetime(2026, 4, 10), timezones=st.just(UTC)
    ),
    tier_multiplier_pct=st.integers(100, 300),
)
rules_ = st.builds(
    rule,
    multiplier_pct=st.one_of(st.none(), st.integers(101, 1000)),
    min_spend_cents=st.integers(0, 100000),
    member_cap_points=st.one_of(st.none(), st.integers(1, 5000)),
).filter(lambda r: r.multiplier_pct is not None) | st.builds(
    rule, multiplier_pct=st.none(), fixed_points=st.integers(1, 5000)
)


@settings(max_examples=300)
@given(rules_, orders, st.integers(0, 10000))
def test_a_bonus_is_never_negative_never_past_the_cap_and_always_explained(
    campaign: CampaignRule, fact: OrderForBonus, before: int
) -> None:
    decision = campaign_bonus(campaign, fact, ZONE, before)
    assert decision.reason
    assert decision.points >= 0 and decision.applied == (decision.points > 0)
    if decision.applied:
        assert fact.total_cents >= campaign.min_spend_cents
        assert campaign.valid_from <= fact.ordered_at < campaign.valid_to
        if campaign.member_cap_points is not None:
            assert before + decision.points <= campaign.member_cap_points


# ----------------------------------------------------------------------------- coupons
COUPON = CouponRule(
    code="C",
    name="C",
    kind="percent",
    value=1000,
    valid_from=START,
    valid_to=END,
    min_spend_cents=4000,
    categories=("meats",),
)
AT = datetime(2026, 3, 10, tzinfo=UTC)


def test_coupon_min_spend_is_on_the_public_price_of_eligible_items() -> None:
    basket = [BasketLine("MT001", "meats", 4000), BasketLine("BR001", "broths", 6800)]
    gold = coupon_value(COUPON, basket, discount_bp=500, at=AT, zone=ZONE)
    # The tier discount lowers what the meat costs, not whether the coupon applies.
    assert gold.usable and gold.value_cents == (4000 - 200) // 10
    short = coupon_value(COUPON, basket[1:], discount_bp=0, at=AT, zone=ZONE)
    assert (short.usable, short.reason) == (False, "no eligible items in the basket")


coupon_rules = st.builds(
    CouponRule,
    code=st.just("C"),
    name=st.just("C"),
    kind=st.sampled_from(["percent", "fixed"]),
    value=st.integers(1, 10000),
    valid_from=st.just(START),
    valid_to=st.just(END),
    min_spend_cents=st.integers(0, 50000),
    categories=st.sampled_from([(), ("meats",), ("broths", "vegetables")]),
    skus=st.sampled_from([(), ("VG001",)]),
)
basket = st.lists(
    st.tuples(st.sampled_from(sorted(CATEGORIES)), st.integers(1, 20), st.integers(0, 20000)),
    min_size=1,
    max_size=8,
)
offers = st.lists(
    st.tuples(st.text(min_size=1, max_size=5), st.integers(0, 50000), st.booleans(), st.just("x")),
    max_size=3,
)
instants = st.datetimes(
    min_value=datetime(2026, 2, 25), max_value=datetime(2026, 4, 5), timezones=st.just(UTC)
)


def _lines(items: list[tuple[str, int, int]]) -> list[BasketLine]:
    return [BasketLine(sku, CATEGORIES[sku], q * p) for sku, q, p in items]


@settings(max_examples=300)
@given(basket, st.integers(0, 10000), offers, st.lists(coupon_rules, max_size=3), instants)
def test_with_coupons_a_quote_never_exceeds_the_public_price(
    items: list[tuple[str, int, int]],
    discount_bp: int,
    vouchers: list[tuple[str, int, bool, str]],
    coupon_defs: list[CouponRule],
    at: datetime,
) -> None:
    coupons = []
    for i, definition in enumerate(coupon_defs):
        d = coupon_value(definition, _lines(items), discount_bp=discount_bp, at=at, zone=ZONE)
        assert d.value_cents >= 0 and (d.usable or d.reason)
        coupons.append((f"K{i}", d.value_cents, d.usable, d.reason))
    result = quote_basket(
        items, tier_name="Gold Sea", discount_bp=discount_bp, vouchers=vouchers, coupons=coupons
    )
    assert 0 <= result.total_cents <= result.public_cents
    assert all(ln.reason for ln in result.lines)


@settings(max_examples=300)
@given(
    basket,
    st.integers(0, 2000),
    st.integers(0, 2000),
    st.lists(coupon_rules, max_size=3),
    instants,
)
def test_with_coupons_a_loyal_member_never_pays_more_than_a_newcomer_or_a_lower_tier(
    items: list[tuple[str, int, int]],
    low_bp: int,
    extra_bp: int,
    coupon_defs: list[CouponRule],
    at: datetime,
) -> None:
    def priced(discount_bp: int) -> int:
        coupons = []
        for i, definition in enumerate(coupon_defs):
            d = coupon_value(definition, _lines(items), discount_bp=discount_bp, at=at, zone=ZONE)
            coupons.append((f"K{i}", d.value_cents, d.usable, d.reason))
        return quote_basket(
            items, tier_name="T", discount_bp=discount_bp, coupons=coupons
        ).total_cents

    newcomer = quote_basket(items, tier_name=None, discount_bp=0).total_cents
    # Same coupons, higher tier discount: never a higher bill (nor above a newcomer's).
    assert priced(low_bp + extra_bp) <= priced(low_bp) <= newcomer


@settings(max_examples=200)
@given(rules_, orders)
def test_a_campaign_only_ever_adds_points(campaign: CampaignRule, fact: OrderForBonus) -> None:
    base = earn_points(fact.total_cents, fact.earn_rate_bp, fact.tier_multiplier_pct)
    assert base + campaign_bonus(campaign, fact, ZONE).points >= base


def test_idempotency_keys_live_24_hours() -> None:
    t = datetime(2026, 3, 1, tzinfo=UTC)
    assert timedelta(hours=24) == IDEMPOTENCY_TTL
    assert idempotency_expires_at(t) == t + timedelta(hours=24)
