"""Loyalty rules as pure functions: the tier policy document, qualification windows and
period ends in the chain's time zone, tier moves, earn and reversal arithmetic, FIFO lot
consumption, voucher and partner conversion, and the checkout quote.

Nothing here touches a database or a clock: every function takes the instant it decides
for, so the same code serves ingestion, the period-end job, `tiers explain`, the policy
simulation and the tests.

Rounding rules (documented in docs/loyalty.md, reliability invariant L10):
- earn: `floor(eligible_cents * earn_rate_bp * multiplier_pct / 1_000_000)` per order,
  never per line (an order of many cheap lines earns what one line of the same total does);
- refund reversal: the points an order keeps after refunds are
  `floor(earned * (total - refunded) / total)`; each refund reverses the drop since the
  previous one, so reversals never exceed the earn and a full refund reverses all of it;
- vouchers: whole `step_points` only (50), at least `min_points` (150), remainder carried;
- partner conversion: `floor(points * units_per_100 / 100)`; the points that buy no whole
  unit stay in the account.
"""

from __future__ import annotations

import calendar
import tomllib
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from memberops.errors import ValidationError

__all__ = [
    "DEFAULT_POLICY_TOML",
    "PERIODS",
    "PERIOD_END_REASONS",
    "WINDOWS",
    "EarnedLot",
    "IntArray",
    "Lot",
    "Metrics",
    "OrderArrays",
    "OrderFact",
    "QuoteLine",
    "QuoteResult",
    "TierDecision",
    "TierPolicy",
    "TierRule",
    "add_months",
    "anniversary_on",
    "consume_fifo",
    "decide_at_period_end",
    "decide_at_period_end_arrays",
    "earn_points",
    "explain_requirements",
    "lot_expiry",
    "metrics_between",
    "micros",
    "next_period_end",
    "parse_policy",
    "partner_units",
    "period_end_at_or_before",
    "qualified_index",
    "qualified_index_arrays",
    "quote_basket",
    "replay_tier",
    "replay_tiers_arrays",
    "reversal_points",
    "split_vouchers",
    "upgrade_index",
    "voucher_points",
    "window_start",
]

WINDOWS = ("rolling_12_months", "calendar_year", "anniversary")
PERIODS = ("quarter", "calendar_year", "anniversary")
OVERSPENT_POLICIES = ("clawback", "negative_bucket")

DEFAULT_POLICY_TOML = """\
# The default ladder (seed: Haidilao's Red, Silver, Gold and Black Sea).
# Money in cents (fen); 1 point is worth 1 fen in vouchers.
[policy]
name = "Sea ladder"
timezone = "Asia/Shanghai"
window = "rolling_12_months"   # rolling_12_months | calendar_year | anniversary
period = "quarter"             # when downgrades are decided: quarter | calendar_year | anniversary
grace_periods = 0              # periods a member may fall short before dropping one level

[points]
earn_rate_bp = 100             # 1% of eligible spend (after discounts)
expiry_months = 24             # each lot expires at local midnight after this many months
overspent = "clawback"         # clawback | negative_bucket

[vouchers]
min_points = 150
step_points = 50
denominations = [500, 200, 100, 50]
valid_days = 180

[[tiers]]
code = "red"
name = "Red Sea"
min_spend_cents = 0
min_visits = 0

[[tiers]]
code = "silver"
name = "Silver Sea"
min_spend_cents = 200000
min_visits = 2
points_multiplier_pct = 110
discount_bp = 0
birthday_gift_cents = 2800

[[tiers]]
code = "gold"
name = "Gold Sea"
min_spend_cents = 500000
min_visits = 4
points_multiplier_pct = 125
discount_bp = 300
birthday_gift_cents = 5800
priority_reservation = true

[[tiers]]
code = "black"
name = "Black Sea"
min_spend_cents = 1200000      # 12,000 yuan within a year (seed 001)
min_visits = 6
points_multiplier_pct = 150
discount_bp = 500
birthday_gift_cents = 8800
priority_reservation = true
exclusive_items = true
member_day = "Wednesday"
"""


# --------------------------------------------------------------------------- policy
@dataclass(frozen=True, slots=True)
class TierRule:
    """One rung of the ladder: what qualifies and what it gives."""

    code: str
    name: str
    min_spend_cents: int = 0
    min_visits: int = 0
    max_days_since_visit: int | None = None
    points_multiplier_pct: int = 100
    discount_bp: int = 0
    birthday_gift_cents: int = 0
    priority_reservation: bool = False
    exclusive_items: bool = False
    member_day: str | None = None

    def benefits(self) -> dict[str, Any]:
        """The benefits as plain data (explanations, API)."""
        return {
            "points_multiplier_pct": self.points_multiplier_pct,
            "discount_bp": self.discount_bp,
            "birthday_gift_cents": self.birthday_gift_cents,
            "priority_reservation": self.priority_reservation,
            "exclusive_items": self.exclusive_items,
            "member_day": self.member_day,
        }


@dataclass(frozen=True, slots=True)
class TierPolicy:
    """A validated tier and points policy."""

    name: str
    timezone: str
    window: str
    period: str
    grace_periods: int
    tiers: tuple[TierRule, ...]
    earn_rate_bp: int = 100
    expiry_months: int = 24
    overspent: str = "clawback"
    voucher_min_points: int = 150
    voucher_step_points: int = 50
    voucher_denominations: tuple[int, ...] = (500, 200, 100, 50)
    voucher_valid_days: int = 180

    @property
    def zone(self) -> ZoneInfo:
        """The chain's time zone."""
        return ZoneInfo(self.timezone)

    def index_of(self, code: str | None) -> int:
        """Position of a tier code on the ladder (unknown or None: the base tier)."""
        for i, tier in enumerate(self.tiers):
            if tier.code == code:
                return i
        return 0

    def tier(self, code: str | None) -> TierRule:
        """The rule of a tier code (unknown or None: the base tier)."""
        return self.tiers[self.index_of(code)]


def _line_of(text: str, key_path: Sequence[str | int]) -> int:
    """Best-effort line number of a key path in a TOML text (tomllib keeps no positions)."""
    lines = text.splitlines()
    section_hits: list[int] = []
    table = None
    count = -1
    target_table = key_path[0] if key_path else None
    index = key_path[1] if len(key_path) > 1 and isinstance(key_path[1], int) else None
    leaf = key_path[-1] if key_path and isinstance(key_path[-1], str) else None
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if stripped.startswith("[[") and stripped.rstrip().endswith("]]"):
            table = stripped.strip("[] ")
            if table == target_table:
                count += 1
                if index is None or count == index:
                    section_hits.append(number)
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            table = stripped.strip("[] ")
            if table == target_table and index is None:
                section_hits.append(number)
            continue
        in_target = table == target_table and (index is None or count == index)
        if in_target and leaf and stripped.split("=", 1)[0].strip() == leaf and "=" in stripped:
            return number
    return section_hits[0] if section_hits else 1


def parse_policy(text: str, *, source: str = "policy") -> TierPolicy:
    """Parse and validate a TOML policy; a ValidationError names the line and the problem.

    >>> parse_policy(DEFAULT_POLICY_TOML).tiers[-1].name
    'Black Sea'
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(source, "toml", str(exc)) from None

    def fail(path: Sequence[str | int], reason: str) -> ValidationError:
        line = _line_of(text, path)
        name = ".".join(str(p) for p in path)
        return ValidationError(f"{source} line {line}", name, reason)

    def get(
        table: Mapping[str, Any],
        path: Sequence[str | int],
        kind: type | tuple[type, ...],
        default: Any = ...,
    ) -> Any:
        key = path[-1]
        assert isinstance(key, str)
        if key not in table:
            if default is ...:
                raise fail(path, "is required")
            return default
        value = table[key]
        if isinstance(value, bool) and kind is int:
            raise fail(path, "must be an integer")
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise fail(path, f"must be {names}")
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise fail(path, "must not be negative")
        return value

    policy = data.get("policy")
    if not isinstance(policy, dict):
        raise fail(["policy"], "a [policy] table is required")
    known = {"name", "timezone", "window", "period", "grace_periods"}
    for key in policy:
        if key not in known:
            raise fail(["policy", key], "is not a known setting")
    name = get(policy, ["policy", "name"], str)
    tz = get(policy, ["policy", "timezone"], str)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(["policy", "timezone"], "is not a known IANA time zone") from None
    window = get(policy, ["policy", "window"], str, "rolling_12_months")
    if window not in WINDOWS:
        raise fail(["policy", "window"], f"must be one of {', '.join(WINDOWS)}")
    period = get(policy, ["policy", "period"], str, "quarter")
    if period not in PERIODS:
        raise fail(["policy", "period"], f"must be one of {', '.join(PERIODS)}")
    grace = get(policy, ["policy", "grace_periods"], int, 0)

    points = data.get("points", {})
    if not isinstance(points, dict):
        raise fail(["points"], "must be a table")
    earn_rate = get(points, ["points", "earn_rate_bp"], int, 100)
    if earn_rate > 10000:
        raise fail(["points", "earn_rate_bp"], "must be at most 10000 (100%)")
    expiry_months = get(points, ["points", "expiry_months"], int, 24)
    if not 1 <= expiry_months <= 120:
        raise fail(["points", "expiry_months"], "must be between 1 and 120")
    overspent = get(points, ["points", "overspent"], str, "clawback")
    if overspent not in OVERSPENT_POLICIES:
        raise fail(["points", "overspent"], f"must be one of {', '.join(OVERSPENT_POLICIES)}")

    vouchers = data.get("vouchers", {})
    if not isinstance(vouchers, dict):
        raise fail(["vouchers"], "must be a table")
    min_points = get(vouchers, ["vouchers", "min_points"], int, 150)
    step = get(vouchers, ["vouchers", "step_points"], int, 50)
    if step < 1:
        raise fail(["vouchers", "step_points"], "must be at least 1")
    if min_points % step:
        raise fail(["vouchers", "min_points"], "must be a whole number of steps")
    denominations = get(vouchers, ["vouchers", "denominations"], list, [500, 200, 100, 50])
    if (
        not denominations
        or any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in denominations)
        or any(d % step for d in denominations)
        or step not in denominations
    ):
        raise fail(
            ["vouchers", "denominations"],
            "must be positive whole steps and include the step itself",
        )
    valid_days = get(vouchers, ["vouchers", "valid_days"], int, 180)

    raw_tiers = data.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise fail(["tiers"], "at least one [[tiers]] entry is required")
    tiers: list[TierRule] = []
    seen: set[str] = set()
    tier_keys = set(TierRule.__dataclass_fields__)
    for i, raw in enumerate(raw_tiers):
        for key in raw:
            if key not in tier_keys:
                raise fail(["tiers", i, key], "is not a known tier setting")
        code = get(raw, ["tiers", i, "code"], str)
        if code in seen:
            raise fail(["tiers", i, "code"], "is used by an earlier tier")
        seen.add(code)
        rule = TierRule(
            code=code,
            name=get(raw, ["tiers", i, "name"], str),
            min_spend_cents=get(raw, ["tiers", i, "min_spend_cents"], int, 0),
            min_visits=get(raw, ["tiers", i, "min_visits"], int, 0),
            max_days_since_visit=get(raw, ["tiers", i, "max_days_since_visit"], int, None),
            points_multiplier_pct=get(raw, ["tiers", i, "points_multiplier_pct"], int, 100),
            discount_bp=get(raw, ["tiers", i, "discount_bp"], int, 0),
            birthday_gift_cents=get(raw, ["tiers", i, "birthday_gift_cents"], int, 0),
            priority_reservation=get(raw, ["tiers", i, "priority_reservation"], bool, False),
            exclusive_items=get(raw, ["tiers", i, "exclusive_items"], bool, False),
            member_day=get(raw, ["tiers", i, "member_day"], str, None),
        )
        if rule.discount_bp > 10000:
            raise fail(["tiers", i, "discount_bp"], "must be at most 10000 (100%)")
        if tiers:
            below = tiers[-1]
            if (rule.min_spend_cents, rule.min_visits) < (below.min_spend_cents, below.min_visits):
                raise fail(
                    ["tiers", i, "min_spend_cents"],
                    f"must not ask less than the tier below ({below.code})",
                )
            if rule.discount_bp < below.discount_bp:
                raise fail(
                    ["tiers", i, "discount_bp"],
                    f"a higher tier must not give less discount than {below.code}",
                )
        elif rule.min_spend_cents or rule.min_visits:
            raise fail(["tiers", i, "min_spend_cents"], "the first (base) tier must ask nothing")
        tiers.append(rule)
    return TierPolicy(
        name=name,
        timezone=tz,
        window=window,
        period=period,
        grace_periods=grace,
        tiers=tuple(tiers),
        earn_rate_bp=earn_rate,
        expiry_months=expiry_months,
        overspent=overspent,
        voucher_min_points=min_points,
        voucher_step_points=step,
        voucher_denominations=tuple(sorted(denominations, reverse=True)),
        voucher_valid_days=valid_days,
    )


# --------------------------------------------------------------------------- calendar
def add_months(day: date, months: int) -> date:
    """`day` moved by whole months; a day past the month end is clamped (31 Jan + 1: 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def anniversary_on(joined: date, year: int) -> date:
    """The anniversary of `joined` in `year`; 29 February falls on 28 February in other years."""
    if joined.month == 2 and joined.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, joined.month, joined.day)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight starting `day`, as an aware UTC instant."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def period_end_at_or_before(policy: TierPolicy, at: datetime, joined: date) -> datetime:
    """The latest period boundary at or before `at` (local midnight, as UTC)."""
    zone = policy.zone
    day = _local_day(at, zone)
    if policy.period == "quarter":
        boundary = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    elif policy.period == "calendar_year":
        boundary = date(day.year, 1, 1)
    else:
        boundary = anniversary_on(joined, day.year)
        if boundary > day:
            boundary = anniversary_on(joined, day.year - 1)
    return _midnight(boundary, zone)


def next_period_end(policy: TierPolicy, at: datetime, joined: date) -> datetime:
    """The first period boundary strictly after `at` (local midnight, as UTC)."""
    zone = policy.zone
    day = _local_day(at, zone)
    if policy.period == "quarter":
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        boundary = add_months(start, 3)
    elif policy.period == "calendar_year":
        boundary = date(day.year + 1, 1, 1)
    else:
        boundary = anniversary_on(joined, day.year)
        if boundary <= day:
            boundary = anniversary_on(joined, day.year + 1)
    return _midnight(boundary, zone)


def window_start(policy: TierPolicy, at: datetime, joined: date) -> datetime:
    """Start of the qualification window whose end is `at` (exclusive end).

    rolling_12_months: the same local time-of-day boundary 12 months earlier (midnight);
    calendar_year: 1 January of the local year containing the instant just before `at`;
    anniversary: the last membership anniversary before `at`.
    """
    zone = policy.zone
    just_before = (at - timedelta(microseconds=1)).astimezone(zone)
    day = just_before.date()
    if policy.window == "rolling_12_months":
        end_day = _local_day(at, zone)
        # A window ending at local midnight covers 12 whole months of local days.
        return _midnight(add_months(end_day, -12), zone)
    if policy.window == "calendar_year":
        return _midnight(date(day.year, 1, 1), zone)
    start = anniversary_on(joined, day.year)
    if start > day:
        start = anniversary_on(joined, day.year - 1)
    return _midnight(start, zone)


def lot_expiry(policy: TierPolicy, earned_at: datetime) -> datetime:
    """When a lot earned at `earned_at` expires: local midnight ending the day that is
    `expiry_months` after the local earning day (never shifted by the UTC offset)."""
    zone = policy.zone
    day = add_months(_local_day(earned_at, zone), policy.expiry_months)
    return _midnight(day + timedelta(days=1), zone)


# --------------------------------------------------------------------------- tiers
@dataclass(frozen=True, slots=True)
class OrderFact:
    """One counted order as the tier rules see it."""

    at: datetime
    net_cents: int


@dataclass(frozen=True, slots=True)
class Metrics:
    """What a tier decision looked at."""

    spend_cents: int
    visits: int
    last_visit_at: datetime | None
    window_start: datetime
    window_end: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (history rows, explanations)."""
        return {
            "spend_cents": self.spend_cents,
            "visits": self.visits,
            "last_visit_at": self.last_visit_at.isoformat() if self.last_visit_at else None,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
        }


def metrics_between(orders: Sequence[OrderFact], start: datetime, end: datetime) -> Metrics:
    """Spend and visits of orders with `start <= at < end` (orders sorted by time)."""
    times = [o.at for o in orders]
    lo = bisect_left(times, start)
    hi = bisect_left(times, end)
    chosen = orders[lo:hi]
    return Metrics(
        spend_cents=sum(o.net_cents for o in chosen if o.net_cents > 0),
        visits=sum(1 for o in chosen if o.net_cents > 0),
        last_visit_at=chosen[-1].at if chosen else None,
        window_start=start,
        window_end=end,
    )


def _qualifies(rule: TierRule, metrics: Metrics) -> bool:
    if metrics.spend_cents < rule.min_spend_cents or metrics.visits < rule.min_visits:
        return False
    if rule.max_days_since_visit is not None:
        if metrics.last_visit_at is None:
            return False
        if metrics.window_end - metrics.last_visit_at > timedelta(days=rule.max_days_since_visit):
            return False
    return True


def qualified_index(policy: TierPolicy, metrics: Metrics) -> int:
    """The highest tier the metrics qualify for (tiers are checked from the top down, so
    ladder order, not list order of a loop, decides: ERPNext #22167)."""
    for i in range(len(policy.tiers) - 1, -1, -1):
        if _qualifies(policy.tiers[i], metrics):
            return i
    return 0


def upgrade_index(policy: TierPolicy, current: int, metrics: Metrics, floor: int = 0) -> int:
    """Upgrades happen as soon as a member qualifies, by as many levels as earned."""
    return max(current, qualified_index(policy, metrics), floor)


@dataclass(frozen=True, slots=True)
class TierDecision:
    """The outcome of one period end for one member."""

    new_index: int
    grace_used: int
    reason: str


def decide_at_period_end(
    policy: TierPolicy, current: int, grace_used: int, metrics: Metrics, floor: int = 0
) -> TierDecision:
    """Keep, upgrade or drop: a member below their tier drops ONE level per period (after
    any grace periods), never below a manual floor."""
    qualified = qualified_index(policy, metrics)
    if qualified >= current:
        reason = "upgrade" if qualified > current else "kept"
        return TierDecision(max(qualified, floor), 0, reason)
    if grace_used < policy.grace_periods:
        return TierDecision(current, grace_used + 1, "grace")
    target = max(current - 1, floor)
    if target == current:
        return TierDecision(current, grace_used, "floor")
    return TierDecision(target, 0, "downgrade")


# Reason codes of `decide_at_period_end_arrays`, in the order of their integer codes.
PERIOD_END_REASONS = ("kept", "upgrade", "grace", "floor", "downgrade")
_KEPT, _UPGRADE, _GRACE, _FLOOR, _DOWNGRADE = range(len(PERIOD_END_REASONS))
_MICROS_PER_DAY = 86_400_000_000

IntArray = npt.NDArray[np.int64]


def qualified_index_arrays(
    policy: TierPolicy, spend: IntArray, visits: IntArray, since_last_us: IntArray
) -> IntArray:
    """`qualified_index` for many members at once (the period-end job, the simulation).

    `since_last_us` is the time from the last visit to the window end in microseconds,
    negative when there was no visit. Tiers are tried from the bottom up and a higher
    qualifying tier overwrites a lower one, which is the same as the top-down search.
    """
    out = np.zeros(len(spend), dtype=np.int64)
    for i, rule in enumerate(policy.tiers):
        ok = (spend >= rule.min_spend_cents) & (visits >= rule.min_visits)
        if rule.max_days_since_visit is not None:
            ok &= (since_last_us >= 0) & (
                since_last_us <= rule.max_days_since_visit * _MICROS_PER_DAY
            )
        out[ok] = i
    return out


def decide_at_period_end_arrays(
    policy: TierPolicy,
    current: IntArray,
    grace_used: IntArray,
    spend: IntArray,
    visits: IntArray,
    since_last_us: IntArray,
    floor: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """`decide_at_period_end` for many members at once: the same decision per member.

    Returns the new tier index, the grace used and the reason (an index into
    `PERIOD_END_REASONS`) per member. A test compares it with the per-member rule on
    random data.
    """
    qualified = qualified_index_arrays(policy, spend, visits, since_last_us)
    new = np.maximum(qualified, floor)
    grace = np.zeros(len(current), dtype=np.int64)
    reason = np.where(qualified > current, _UPGRADE, _KEPT).astype(np.int64)
    below = qualified < current
    graced = below & (grace_used < policy.grace_periods)
    new[graced] = current[graced]
    grace[graced] = grace_used[graced] + 1
    reason[graced] = _GRACE
    dropping = below & ~graced
    target = np.maximum(current - 1, floor)
    held = dropping & (target == current)
    new[held] = current[held]
    grace[held] = grace_used[held]
    reason[held] = _FLOOR
    down = dropping & (target != current)
    new[down] = target[down]
    reason[down] = _DOWNGRADE
    return new, grace, reason


def replay_tier(
    policy: TierPolicy,
    orders: Sequence[OrderFact],
    joined: date,
    as_of: datetime,
    *,
    start_index: int = 0,
    start_at: datetime | None = None,
) -> tuple[int, int, list[tuple[datetime, int, int, str]]]:
    """A member's tier as of `as_of`, replayed from scratch over their history.

    Upgrades are applied at each order, downgrades at each period end. Returns the tier
    index, grace used and the moves `(at, from, to, reason)`. The incremental engine
    (upgrade on order, `tiers evaluate` at period ends) must reach the same tier: the
    tests compare them (reliability invariant L8).
    """
    index, grace = start_index, 0
    moves: list[tuple[datetime, int, int, str]] = []
    cursor = start_at or (orders[0].at if orders else as_of)
    events: list[tuple[datetime, int, OrderFact | None]] = []
    for order in orders:
        if order.at >= cursor and order.at <= as_of:
            events.append((order.at, 1, order))
    boundary = next_period_end(policy, cursor, joined)
    while boundary <= as_of:
        events.append((boundary, 0, None))
        boundary = next_period_end(policy, boundary, joined)
    # Period ends sort before orders at the same instant: the period closes first.
    events.sort(key=lambda e: (e[0], e[1]))
    for at, kind, fact in events:
        if kind == 1 and fact is not None:
            end = fact.at + timedelta(microseconds=1)
            metrics = metrics_between(orders, window_start(policy, end, joined), end)
            new = upgrade_index(policy, index, metrics)
            if new != index:
                moves.append((at, index, new, "upgrade"))
                index, grace = new, 0
        else:
            metrics = metrics_between(orders, window_start(policy, at, joined), at)
            decision = decide_at_period_end(policy, index, grace, metrics)
            if decision.new_index != index:
                moves.append((at, index, decision.new_index, decision.reason))
            index, grace = decision.new_index, decision.grace_used
    return index, grace, moves


def explain_requirements(
    policy: TierPolicy,
    index: int,
    orders: Sequence[OrderFact],
    joined: date,
    now: datetime,
) -> dict[str, Any]:
    """What is still needed to keep the tier at the next period end, and to reach the next.

    Amounts count only orders that will still be inside the window at the deadline.
    """
    deadline = next_period_end(policy, now, joined)
    start_at_deadline = window_start(policy, deadline, joined)
    counted = metrics_between(orders, start_at_deadline, now + timedelta(microseconds=1))
    current_window = metrics_between(
        orders, window_start(policy, now, joined), now + timedelta(microseconds=1)
    )

    def needs(rule: TierRule, base: Metrics) -> dict[str, Any]:
        return {
            "tier": rule.code,
            "name": rule.name,
            "spend_left_cents": max(0, rule.min_spend_cents - base.spend_cents),
            "visits_left": max(0, rule.min_visits - base.visits),
        }

    zone = policy.zone
    keep = needs(policy.tiers[index], counted) if index > 0 else None
    nxt = needs(policy.tiers[index + 1], current_window) if index + 1 < len(policy.tiers) else None
    return {
        "deadline": deadline.astimezone(zone).isoformat(),
        "metrics": current_window.to_dict(),
        "to_keep": keep,
        "to_reach_next": nxt,
    }


# --------------------------------------------------------------------------- points
def earn_points(eligible_cents: int, earn_rate_bp: int, multiplier_pct: int = 100) -> int:
    """Points for one order: floor at order level, integers only (L10).

    >>> earn_points(12345, 100, 150)  # 123.45 yuan at 1%, x1.5 -> 185.175 -> 185
    185
    """
    if eligible_cents <= 0:
        return 0
    return (eligible_cents * earn_rate_bp * multiplier_pct) // 1_000_000


def reversal_points(
    earned: int, total_cents: int, refunded_before_cents: int, refund_cents: int
) -> int:
    """Points a refund reverses: the drop in what the order keeps (see module docstring)."""
    if earned <= 0 or total_cents <= 0:
        return 0
    before = min(refunded_before_cents, total_cents)
    after = min(refunded_before_cents + refund_cents, total_cents)
    keep_before = earned * (total_cents - before) // total_cents
    keep_after = earned * (total_cents - after) // total_cents
    return keep_before - keep_after


@dataclass(slots=True)
class Lot:
    """An open lot as FIFO consumption sees it."""

    id: str
    remaining: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class EarnedLot:
    """A slice taken from a lot."""

    lot_id: str
    points: int
    expires_at: datetime


def consume_fifo(lots: Sequence[Lot], points: int, now: datetime) -> list[EarnedLot]:
    """Take `points` from unexpired lots, soonest expiry first (ties: oldest id first).

    Raises ValueError when the unexpired lots hold too little: the caller checked the
    balance under a lock, so this means the ledger is inconsistent.
    """
    taken: list[EarnedLot] = []
    left = points
    for lot in sorted(lots, key=lambda lt: (lt.expires_at, lt.id)):
        if left == 0:
            break
        if lot.expires_at <= now or lot.remaining <= 0:
            continue
        take = min(lot.remaining, left)
        taken.append(EarnedLot(lot.id, take, lot.expires_at))
        left -= take
    if left:
        raise ValueError(f"lots short by {left} points")
    return taken


def voucher_points(balance: int, min_points: int = 150, step_points: int = 50) -> int:
    """Points converted into vouchers: whole steps only, nothing below the minimum.

    >>> voucher_points(149), voucher_points(150), voucher_points(249)
    (0, 150, 200)
    """
    if balance < min_points:
        return 0
    return balance // step_points * step_points


def split_vouchers(points: int, denominations: Sequence[int]) -> list[int]:
    """Split converted points into the fewest vouchers of the given denominations."""
    left = points
    out: list[int] = []
    for value in sorted(denominations, reverse=True):
        count, left = divmod(left, value)
        out.extend([value] * count)
    if left:
        raise ValueError(f"{points} points cannot be split into {list(denominations)}")
    return out


def partner_units(points: int, units_per_100_points: int) -> tuple[int, int]:
    """Partner units (miles) for points at a rate, and the points that convert.

    Only whole units are bought; the points that would buy a fraction stay with the member.

    >>> partner_units(1000, 30)  # 30 miles per 100 points
    (300, 1000)
    >>> partner_units(101, 30)  # 30.3 miles -> 30 miles for 100 points
    (30, 100)
    """
    if points <= 0 or units_per_100_points <= 0:
        return 0, 0
    units = points * units_per_100_points // 100
    # The fewest points that still buy `units` whole units.
    used = -(-units * 100 // units_per_100_points)
    return units, min(used, points)


# --------------------------------------------------------------------------- quote
@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One line of a quote: an item at public price, or a benefit with its reason."""

    kind: str  # item | tier_discount | voucher | coupon
    label: str
    amount_cents: int  # items positive, benefits negative
    applied: bool = True
    reason: str = ""


@dataclass(frozen=True, slots=True)
class QuoteResult:
    """An itemised quote."""

    public_cents: int
    total_cents: int
    lines: tuple[QuoteLine, ...] = field(default_factory=tuple)


def quote_basket(
    items: Sequence[tuple[str, int, int]],
    *,
    tier_name: str | None,
    discount_bp: int,
    vouchers: Sequence[tuple[str, int, bool, str]] = (),
    coupons: Sequence[tuple[str, int, bool, str]] = (),
) -> QuoteResult:
    """Price a basket: public prices, then the tier discount, then vouchers and coupons.

    `items` are (label, quantity, public unit price cents); `vouchers`/`coupons` are
    (code, value cents, usable, reason if not). Benefits only ever subtract, and never
    below zero, so the total is at most the public price and a member with benefits never
    pays more than a newcomer for the same basket (published rules only: no hidden input).
    """
    lines: list[QuoteLine] = []
    public = 0
    for label, quantity, unit in items:
        if quantity <= 0 or unit < 0:
            raise ValidationError("quote", "items", "quantity must be positive, price not negative")
        amount = quantity * unit
        public += amount
        lines.append(QuoteLine("item", f"{label} x{quantity}", amount, True, "public price"))
    total = public
    if discount_bp > 0 and public > 0:
        # Floor the discount: the member is never charged a fraction of a cent less than
        # the rate says, and the chain never gives more than published.
        off = min(total, public * discount_bp // 10000)
        total -= off
        lines.append(
            QuoteLine(
                "tier_discount",
                f"{tier_name} {discount_bp / 100:g}% off",
                -off,
                True,
                "tier benefit",
            )
        )
    elif tier_name is not None:
        lines.append(
            QuoteLine("tier_discount", f"{tier_name}", 0, False, "this tier has no discount")
        )
    for kind, offers in (("voucher", vouchers), ("coupon", coupons)):
        for code, value, usable, why in offers:
            if not usable:
                lines.append(QuoteLine(kind, code, 0, False, why))
                continue
            off = min(total, value)
            total -= off
            reason = "applied" if off == value else "capped at what is left to pay"
            lines.append(QuoteLine(kind, code, -off, True, reason))
    return QuoteResult(public_cents=public, total_cents=total, lines=tuple(lines))


def with_floor(policy: TierPolicy, floor_code: str | None) -> int:
    """Index of a manual floor tier (0 when none)."""
    return policy.index_of(floor_code) if floor_code else 0


def policy_with(policy: TierPolicy, **changes: Any) -> TierPolicy:
    """A copy with some settings changed (tests, simulations)."""
    return replace(policy, **changes)


# --------------------------------------------------------------------------- arrays
# Tier replays for a whole membership at once (the policy simulation). Instants are
# integer microseconds since 1970-01-01 UTC; a member's orders are one slice of flat,
# member-then-time sorted arrays. Each function gives exactly what the per-member rule
# gives (tests compare them on random data).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# Time-zone offsets change at whole quarter hours (UTC) in every zone since 1970.
_SLOT_US = 15 * 60 * 1_000_000


def micros(at: datetime) -> int:
    """Microseconds since 1970-01-01 UTC (exact, unlike `timestamp()`)."""
    return (at - _EPOCH) // _ONE_US


def _instant(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class _LocalDays:
    """Local calendar days (days since 1970-01-01) of many instants in one zone."""

    def __init__(self, zone: ZoneInfo, lo_us: int, hi_us: int) -> None:
        self.first = lo_us // _SLOT_US
        last = hi_us // _SLOT_US
        offsets = []
        for slot in range(self.first, last + 1):
            offset = _instant(slot * _SLOT_US).astimezone(zone).utcoffset() or timedelta(0)
            offsets.append(offset // _ONE_US)
        self.offsets = np.array(offsets, dtype=np.int64)

    def days(self, us: IntArray) -> IntArray:
        offsets = self.offsets[us // _SLOT_US - self.first]
        return (us + offsets) // _MICROS_PER_DAY


def _window_starts(policy: TierPolicy, ends: IntArray, local: _LocalDays) -> IntArray:
    """`window_start(policy, end, _)` for many window ends (not for anniversary windows)."""
    zone = policy.zone
    if policy.window == "rolling_12_months":
        days = local.days(ends)

        def start_of(day: date) -> datetime:
            return _midnight(add_months(day, -12), zone)
    else:
        days = local.days(ends - 1)

        def start_of(day: date) -> datetime:
            return _midnight(date(day.year, 1, 1), zone)

    if len(days) == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(days.min())
    table = np.array(
        [
            micros(start_of(_EPOCH.date() + timedelta(days=d)))
            for d in range(low, int(days.max()) + 1)
        ],
        dtype=np.int64,
    )
    return table[days - low]


class OrderArrays:
    """Counted orders of many members as flat arrays (member-then-time order), with
    prefix sums that answer window questions for any member and interval at once."""

    def __init__(self, member: IntArray, times: IntArray, net: IntArray, members: int) -> None:
        self.members = members
        self.member = member
        self.times = times
        # Keys member * (distinct times + 1) + rank of the time: searchsorted over them
        # answers "orders of member m before instant x" for all queries at once.
        self.distinct = np.unique(times)
        self.width = len(self.distinct) + 1
        self.keys = member * self.width + np.searchsorted(self.distinct, times, side="left")
        positive = net > 0
        self.spend = np.concatenate(([0], np.cumsum(np.where(positive, net, 0))))
        self.visits = np.concatenate(([0], np.cumsum(positive.astype(np.int64))))

    def _before(self, member: IntArray, at: IntArray) -> IntArray:
        rank = np.searchsorted(self.distinct, at, side="left")
        return np.searchsorted(self.keys, member * self.width + rank, side="left")

    def window(
        self, member: IntArray, start: IntArray, end: IntArray
    ) -> tuple[IntArray, IntArray, IntArray]:
        """`metrics_between` per query: spend, visits and the time from the last order to
        the window end (negative when the window is empty)."""
        lo = self._before(member, start)
        hi = np.maximum(self._before(member, end), lo)
        spend = self.spend[hi] - self.spend[lo]
        visits = self.visits[hi] - self.visits[lo]
        last = self.times[np.maximum(hi - 1, 0)] if len(self.times) else np.zeros_like(hi)
        since_last = np.where(hi > lo, end - last, -1)
        return spend, visits, since_last


def replay_tiers_arrays(
    policy: TierPolicy, orders: OrderArrays, as_of: datetime
) -> tuple[IntArray, IntArray] | None:
    """`replay_tier(policy, orders_of_m, joined, as_of)` for every member m at once.

    Returns the tier index and grace used per member, or None for policies whose windows
    or periods run from each member's anniversary (the per-member rule serves those).
    Each member's events (orders, then period ends after the first order) are sorted as
    `replay_tier` sorts them and applied step by step: step k applies every member's k-th
    event together.
    """
    if policy.window == "anniversary" or policy.period == "anniversary":
        return None
    n = orders.members
    index = np.zeros(n, dtype=np.int64)
    grace = np.zeros(n, dtype=np.int64)
    if len(orders.times) == 0:
        return index, grace
    as_of_us = micros(as_of)
    counts = np.bincount(orders.member, minlength=n)
    has = counts > 0
    firsts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    cursor = np.where(has, orders.times[np.minimum(firsts, len(orders.times) - 1)], as_of_us)
    boundaries: list[int] = []
    joined = as_of.date()  # quarter and calendar-year periods do not depend on it
    at = next_period_end(policy, _instant(int(cursor[has].min())), joined)
    while at <= as_of:
        boundaries.append(micros(at))
        at = next_period_end(policy, at, joined)
    bounds = np.array(boundaries, dtype=np.int64)
    # Period-end events: the boundaries after each member's first order.
    first_bound = np.searchsorted(bounds, cursor, side="right")
    per_member = np.where(has, len(bounds) - first_bound, 0)
    b_member = np.repeat(np.arange(n, dtype=np.int64), per_member)
    starts_at = np.repeat(
        first_bound - np.concatenate(([0], np.cumsum(per_member)[:-1])), per_member
    )
    b_times = bounds[np.arange(len(b_member), dtype=np.int64) + starts_at]
    # Order events: orders up to `as_of`.
    upto = orders.times <= as_of_us
    ev_member = np.concatenate((orders.member[upto], b_member))
    ev_time = np.concatenate((orders.times[upto], b_times))
    ev_kind = np.concatenate(
        (np.ones(int(upto.sum()), dtype=np.int64), np.zeros(len(b_member), dtype=np.int64))
    )
    # Period ends sort before orders at the same instant: the period closes first.
    order = np.lexsort((ev_kind, ev_time, ev_member))
    ev_member, ev_time, ev_kind = ev_member[order], ev_time[order], ev_kind[order]
    ends = np.where(ev_kind == 1, ev_time + 1, ev_time)
    local = _LocalDays(policy.zone, int(ends.min()) - 1, int(ends.max()))
    spend, visits, since_last = orders.window(ev_member, _window_starts(policy, ends, local), ends)
    # Rank of each event within its member, then the events grouped by rank.
    group_start = np.searchsorted(ev_member, ev_member, side="left")
    rank = np.arange(len(ev_member), dtype=np.int64) - group_start
    by_rank = np.argsort(rank, kind="stable")
    edges = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2), side="left")
    for k in range(len(edges) - 1):
        step = by_rank[edges[k] : edges[k + 1]]
        ups = step[ev_kind[step] == 1]
        m = ev_member[ups]
        qualified = qualified_index_arrays(policy, spend[ups], visits[ups], since_last[ups])
        raised = qualified > index[m]
        index[m[raised]] = qualified[raised]
        grace[m[raised]] = 0
        ends_ = step[ev_kind[step] == 0]
        m = ev_member[ends_]
        new, kept, _ = decide_at_period_end_arrays(
            policy,
            index[m],
            grace[m],
            spend[ends_],
            visits[ends_],
            since_last[ends_],
            np.zeros(len(m), dtype=np.int64),
        )
        index[m] = new
        grace[m] = kept
    return index, grace
