"""Pure loyalty rules: the policy document, windows and period ends in local time, tier
moves, earn and reversal arithmetic, vouchers, partners and the quote."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memberops.errors import ValidationError
from memberops.loyalty.rules import (
    DEFAULT_POLICY_TOML,
    Lot,
    OrderFact,
    add_months,
    anniversary_on,
    consume_fifo,
    decide_at_period_end,
    earn_points,
    lot_expiry,
    metrics_between,
    next_period_end,
    parse_policy,
    partner_units,
    period_end_at_or_before,
    policy_with,
    quote_basket,
    replay_tier,
    reversal_points,
    split_vouchers,
    voucher_points,
    window_start,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = parse_policy(DEFAULT_POLICY_TOML)
JOINED = date(2024, 1, 10)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


# ----------------------------------------------------------------------------- document
def test_default_policy_is_the_sea_ladder() -> None:
    assert [t.name for t in POLICY.tiers] == ["Red Sea", "Silver Sea", "Gold Sea", "Black Sea"]
    assert POLICY.tiers[-1].min_spend_cents == 1_200_000  # 12,000 yuan (seed 001)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('window = "rolling_12_months"', 'window = "fortnight"'), "policy.window"),
        (('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"'), "policy.timezone"),
        (("min_spend_cents = 500000", 'min_spend_cents = "lots"'), "tiers.2.min_spend_cents"),
        (("discount_bp = 500", "discount_bp = 100"), "tiers.3.discount_bp"),
        (('code = "gold"', 'code = "silver"'), "tiers.2.code"),
        (("min_points = 150", "min_points = 160"), "vouchers.min_points"),
    ],
)
def test_a_bad_policy_names_the_line_and_the_problem(change: tuple[str, str], field: str) -> None:
    text = DEFAULT_POLICY_TOML.replace(*change, 1)
    assert text != DEFAULT_POLICY_TOML
    line = next(
        number
        for number, (old, new) in enumerate(
            zip(DEFAULT_POLICY_TOML.splitlines(), text.splitlines(), strict=True), start=1
        )
        if old != new
    )
    with pytest.raises(ValidationError) as info:
        parse_policy(text, source="new.toml")
    assert info.value.record == f"new.toml line {line}"
    assert info.value.field == field
    assert text.splitlines()[line - 1].strip().startswith(field.rsplit(".", 1)[-1])


def test_a_toml_syntax_error_names_its_line() -> None:
    with pytest.raises(ValidationError) as info:
        parse_policy("[policy]\nname = \n", source="x.toml")
    assert "line 2" in info.value.reason


def test_an_unknown_setting_is_refused_not_ignored() -> None:
    text = DEFAULT_POLICY_TOML.replace("min_visits = 4", "min_visit = 4")
    with pytest.raises(ValidationError) as info:
        parse_policy(text)
    assert info.value.field == "tiers.2.min_visit"


# ----------------------------------------------------------------------------- calendar
def test_29_february_anniversary_falls_on_28_february_in_other_years() -> None:
    leap = date(2024, 2, 29)
    assert anniversary_on(leap, 2025) == date(2025, 2, 28)
    assert anniversary_on(leap, 2028) == date(2028, 2, 29)
    assert add_months(leap, 12) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)


def test_anniversary_periods_around_29_february() -> None:
    policy = policy_with(POLICY, period="anniversary", window="anniversary")
    leap = date(2024, 2, 29)
    # 27 Feb 2025 23:59:59 local is still in the first membership year ...
    end = next_period_end(policy, local(2025, 2, 27, 23, 59, 59), leap)
    assert end == local(2025, 2, 28)
    # ... and the year after 28 Feb 2025 ends on 29 Feb 2028's predecessor, 28 Feb 2026.
    assert next_period_end(policy, local(2025, 2, 28), leap) == local(2026, 2, 28)
    assert next_period_end(policy, local(2027, 3, 1), leap) == local(2028, 2, 29)
    assert window_start(policy, local(2026, 2, 28), leap) == local(2025, 2, 28)
    assert period_end_at_or_before(policy, local(2028, 2, 29, 0, 0, 0), leap) == local(2028, 2, 29)


def test_quarter_ends_at_local_midnight_not_utc_midnight() -> None:
    # 23:59:59 local on 31 March belongs to Q1; 00:00:00 local on 1 April starts Q2.
    assert next_period_end(POLICY, local(2026, 3, 31, 23, 59, 59), JOINED) == local(2026, 4, 1)
    assert next_period_end(POLICY, local(2026, 4, 1, 0, 0, 0), JOINED) == local(2026, 7, 1)
    assert period_end_at_or_before(POLICY, local(2026, 3, 31, 23, 59, 59), JOINED) == local(
        2026, 1, 1
    )
    assert period_end_at_or_before(POLICY, local(2026, 4, 1), JOINED) == local(2026, 4, 1)
    # Across UTC midnight: 07:59 and 08:00 UTC on 31 March are 15:59 and 16:00 local, the
    # same local day; 16:00 UTC is local midnight, the boundary.
    before = datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)
    after = datetime(2026, 3, 31, 16, 0, 0, tzinfo=UTC)
    assert next_period_end(POLICY, before, JOINED) == after
    assert next_period_end(POLICY, after, JOINED) == local(2026, 7, 1)


def test_an_order_at_local_23_59_59_counts_in_the_closing_window_and_at_00_00_in_the_next() -> None:
    orders = [
        OrderFact(local(2026, 3, 31, 23, 59, 59).astimezone(UTC), 100),
        OrderFact(local(2026, 4, 1, 0, 0, 0).astimezone(UTC), 200),
    ]
    end = local(2026, 4, 1)
    closing = metrics_between(orders, window_start(POLICY, end, JOINED), end)
    assert closing.spend_cents == 100
    assert closing.window_start == local(2025, 4, 1)


def test_lot_expiry_is_local_midnight_whatever_the_utc_time_of_earning() -> None:
    # 00:30 local on 1 March is still 28 February in UTC; the lot follows the local day.
    early = local(2026, 3, 1, 0, 30).astimezone(UTC)
    late = local(2026, 3, 1, 23, 30).astimezone(UTC)
    assert early.date() == date(2026, 2, 28)
    assert lot_expiry(POLICY, early) == lot_expiry(POLICY, late) == local(2028, 3, 2)


def test_calendar_year_window_at_new_year_covers_the_year_just_ended() -> None:
    policy = policy_with(POLICY, window="calendar_year", period="calendar_year")
    assert window_start(policy, local(2027, 1, 1), JOINED) == local(2026, 1, 1)
    assert window_start(policy, local(2026, 6, 1, 12), JOINED) == local(2026, 1, 1)


# ----------------------------------------------------------------------------- tiers
def _story_orders() -> list[OrderFact]:
    # 13,000 yuan over 2024 (Black Sea), then 5,500 yuan in 2025 H1, then little.
    out = [OrderFact(local(2024, m, 5, 19).astimezone(UTC), 130_000) for m in range(1, 11)]
    out += [OrderFact(local(2025, m, 5, 19).astimezone(UTC), 110_000) for m in range(1, 6)]
    out += [OrderFact(local(2026, 2, 5, 19).astimezone(UTC), 30_000)]
    return sorted(out, key=lambda o: o.at)


def test_seed_story_black_sea_member_below_12000_drops_one_level_per_period() -> None:
    orders = _story_orders()
    index, _, moves = replay_tier(POLICY, orders, JOINED, local(2026, 7, 2))
    codes = [(POLICY.tiers[a].code, POLICY.tiers[b].code, why) for _, a, b, why in moves]
    downgrades = [c for c in codes if c[2] == "downgrade"]
    assert ("gold", "black", "upgrade") in codes
    # Black -> Gold, then at the next period end Gold -> Silver: never two levels at once.
    assert downgrades[:2] == [("black", "gold", "downgrade"), ("gold", "silver", "downgrade")]
    for _, a, b, why in moves:
        if why == "downgrade":
            assert a - b == 1
    assert POLICY.tiers[index].code in {"silver", "red"}


def test_grace_period_delays_the_drop_by_one_period() -> None:
    policy = policy_with(POLICY, grace_periods=1)
    metrics = metrics_between([], local(2025, 1, 1), local(2026, 1, 1))
    first = decide_at_period_end(policy, 3, 0, metrics)
    assert (first.new_index, first.reason) == (3, "grace")
    second = decide_at_period_end(policy, 3, first.grace_used, metrics)
    assert (second.new_index, second.reason) == (2, "downgrade")


def test_manual_floor_stops_the_drop() -> None:
    metrics = metrics_between([], local(2025, 1, 1), local(2026, 1, 1))
    decision = decide_at_period_end(POLICY, 2, 0, metrics, floor=2)
    assert (decision.new_index, decision.reason) == (2, "floor")


def test_minimum_visits_are_enforced_not_only_spend() -> None:
    one_big = [OrderFact(local(2026, 1, 5).astimezone(UTC), 2_000_000)]
    index, _, _ = replay_tier(POLICY, one_big, JOINED, local(2026, 1, 6))
    assert POLICY.tiers[index].code == "red"  # Silver needs two visits


# ----------------------------------------------------------------------------- points
@given(st.integers(0, 10**9), st.integers(0, 10000), st.integers(100, 300))
def test_earn_is_the_floor_of_the_exact_product(cents: int, rate: int, mult: int) -> None:
    points = earn_points(cents, rate, mult)
    assert points * 1_000_000 <= cents * rate * mult < (points + 1) * 1_000_000 or cents == 0


@settings(max_examples=300)
@given(
    st.integers(1, 10**6),
    st.integers(1, 10**7),
    st.lists(st.integers(1, 10**6), min_size=1, max_size=10),
)
def test_reversals_never_exceed_the_earn_and_a_full_refund_reverses_all(
    earned: int, total: int, refunds: list[int]
) -> None:
    refunded = reversed_ = 0
    for amount in refunds:
        amount = min(amount, total - refunded)
        if amount <= 0:
            break
        reversed_ += reversal_points(earned, total, refunded, amount)
        refunded += amount
        assert 0 <= reversed_ <= earned
    rest = total - refunded
    if rest:
        reversed_ += reversal_points(earned, total, refunded, rest)
    assert reversed_ == earned


def test_fifo_takes_soonest_expiry_first_and_skips_expired() -> None:
    now = local(2026, 1, 1)
    lots = [
        Lot("b", 100, local(2026, 6, 1)),
        Lot("a", 50, local(2026, 3, 1)),
        Lot("x", 500, local(2025, 12, 31)),
    ]
    taken = consume_fifo(lots, 120, now)
    assert [(t.lot_id, t.points) for t in taken] == [("a", 50), ("b", 70)]
    with pytest.raises(ValueError):
        consume_fifo(lots, 151, now)


def test_vouchers_need_150_points_in_50_point_steps() -> None:
    assert [voucher_points(b) for b in (0, 149, 150, 199, 200, 1234)] == [0, 0, 150, 150, 200, 1200]
    assert split_vouchers(1200, (500, 200, 100, 50)) == [500, 500, 200]
    assert sum(split_vouchers(350, (500, 200, 100, 50))) == 350


@given(st.integers(0, 10**7), st.integers(1, 500))
def test_partner_units_are_whole_and_never_cost_more_points_than_offered(
    points: int, rate: int
) -> None:
    units, used = partner_units(points, rate)
    assert 0 <= used <= points
    assert units == used * rate // 100
    if units:
        assert (used - 1) * rate // 100 < units  # no cheaper way to buy the same units


# ----------------------------------------------------------------------------- quote
basket = st.lists(
    st.tuples(
        st.sampled_from(["BR001", "MT001", "VG001"]), st.integers(1, 20), st.integers(0, 20000)
    ),
    min_size=1,
    max_size=8,
)
offers = st.lists(
    st.tuples(st.text(min_size=1, max_size=5), st.integers(0, 50000), st.booleans(), st.just("x")),
    max_size=4,
)


@settings(max_examples=300)
@given(basket, st.integers(0, 10000), offers, offers)
def test_a_quote_never_exceeds_the_public_price(
    items: list[tuple[str, int, int]],
    discount_bp: int,
    vouchers: list[tuple[str, int, bool, str]],
    coupons: list[tuple[str, int, bool, str]],
) -> None:
    result = quote_basket(
        items, tier_name="Gold Sea", discount_bp=discount_bp, vouchers=vouchers, coupons=coupons
    )
    assert 0 <= result.total_cents <= result.public_cents
    assert result.public_cents == sum(q * p for _, q, p in items)
    assert (
        result.public_cents + sum(ln.amount_cents for ln in result.lines if ln.kind != "item")
        == result.total_cents
    )
    assert all(ln.reason for ln in result.lines)


@settings(max_examples=300)
@given(basket, st.integers(0, 10000), offers)
def test_a_loyal_member_never_pays_more_than_a_newcomer(
    items: list[tuple[str, int, int]], discount_bp: int, vouchers: list[tuple[str, int, bool, str]]
) -> None:
    newcomer = quote_basket(items, tier_name=None, discount_bp=0)
    loyal = quote_basket(items, tier_name="Black Sea", discount_bp=discount_bp, vouchers=vouchers)
    assert loyal.total_cents <= newcomer.total_cents == newcomer.public_cents


def test_a_benefit_that_does_not_apply_says_why() -> None:
    result = quote_basket(
        [("BR001", 1, 6800)],
        tier_name="Red Sea",
        discount_bp=0,
        vouchers=[("V1", 500, False, "voucher expired")],
    )
    reasons = {ln.kind: (ln.applied, ln.reason) for ln in result.lines}
    assert reasons["voucher"] == (False, "voucher expired")
    assert reasons["tier_discount"] == (False, "this tier has no discount")
    assert result.total_cents == 6800


def test_timedelta_sanity_of_rolling_window() -> None:
    end = local(2026, 4, 1)
    assert end - window_start(POLICY, end, JOINED) == timedelta(days=365)
