"""Campaign bonuses, coupons and idempotency-key lifetimes as pure functions.

Nothing here touches a database or a clock: each function takes the instant it decides
for and the chain's time zone, so ingestion, the quote, the CLI and the tests share it.

Rounding (docs/loyalty.md):
- a multiplier campaign adds `floor(eligible x earn_rate_bp x tier_pct x (multiplier_pct
  - 100) / 10^8)` points per order: a "double points" campaign (200) adds what the order
  earned on its eligible spend once more, floored once at order level;
- a fixed campaign adds its points once per qualifying order;
- eligible spend is the order total after discounts; with SKU or category filters it is
  the matching lines' share of that total, `floor(matching x total / subtotal)`;
- a percent coupon takes `floor(eligible x percent_bp / 10,000)` of what the eligible
  items cost after the tier discount; a fixed coupon at most that amount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from memberops.errors import ValidationError

__all__ = [
    "IDEMPOTENCY_TTL",
    "WEEKDAYS",
    "BasketLine",
    "BonusDecision",
    "CampaignRule",
    "CouponDecision",
    "CouponRule",
    "OrderForBonus",
    "campaign_bonus",
    "campaign_from",
    "coupon_from",
    "coupon_value",
    "idempotency_expires_at",
    "local_instant",
]

# Talon.One keeps request idempotency keys 24 h; business documents stay de-duplicated
# forever in the ledger (`dedup_key`), so an expired key cannot make a document post twice.
IDEMPOTENCY_TTL = timedelta(hours=24)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def idempotency_expires_at(created_at: datetime) -> datetime:
    """When a stored request key stops answering replays (24 h after first use)."""
    return created_at + IDEMPOTENCY_TTL


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def local_instant(value: str, zone: ZoneInfo, *, record: str, field: str, end: bool) -> datetime:
    """A validity bound: `YYYY-MM-DD` is local midnight starting that day (for an `end`
    bound: the midnight ending it); a time without offset is local; one with an offset is
    taken as is. Returns UTC.

    >>> z = ZoneInfo("Asia/Shanghai")
    >>> local_instant("2026-03-31", z, record="c", field="valid_to", end=True).isoformat()
    '2026-03-31T16:00:00+00:00'
    """
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + (timedelta(days=1) if end else timedelta())
            return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(record, field, "is not a date or ISO time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _bound(doc: Mapping[str, Any], key: str, zone: ZoneInfo, record: str, end: bool) -> datetime:
    value = doc.get(key)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    if not isinstance(value, str) or not value:
        raise ValidationError(record, key, "is required (a date or ISO time)")
    return local_instant(value, zone, record=record, field=key, end=end)


def _codes(doc: Mapping[str, Any], key: str, record: str) -> tuple[str, ...]:
    value = doc.get(key) or ()
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError(record, key, "must be a list of codes")
    return tuple(sorted({v.strip() for v in value if v.strip()}))


def _int(
    doc: Mapping[str, Any], key: str, record: str, *, low: int = 0, high: int = 10**9
) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(record, key, f"must be a whole number from {low} to {high}")
    return int(value)


def _code(doc: Mapping[str, Any], record: str) -> str:
    code = doc.get("code")
    if (
        not isinstance(code, str)
        or not 1 <= len(code) <= 40
        or not code.replace("-", "").replace("_", "").isalnum()
    ):
        raise ValidationError(record, "code", "must be 1-40 letters, digits, - or _")
    return code


def _name(doc: Mapping[str, Any], record: str) -> str:
    name = doc.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 120:
        raise ValidationError(record, "name", "must be 1-120 characters")
    return name.strip()


# --------------------------------------------------------------------------- campaigns
@dataclass(frozen=True, slots=True)
class CampaignRule:
    """A bonus on earned points for orders that match every condition.

    Empty `stores`, `tiers`, `days`, `categories` and `skus` mean "any". `valid_from` is
    inclusive and `valid_to` exclusive, both UTC instants computed from local times.
    """

    code: str
    name: str
    valid_from: datetime
    valid_to: datetime
    stores: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    days: tuple[str, ...] = ()
    min_spend_cents: int = 0
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    multiplier_pct: int | None = None
    fixed_points: int | None = None
    member_cap_points: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-ready data (instants as UTC ISO strings)."""
        return {
            "code": self.code,
            "name": self.name,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "stores": list(self.stores),
            "tiers": list(self.tiers),
            "days": list(self.days),
            "min_spend_cents": self.min_spend_cents,
            "categories": list(self.categories),
            "skus": list(self.skus),
            "multiplier_pct": self.multiplier_pct,
            "fixed_points": self.fixed_points,
            "member_cap_points": self.member_cap_points,
        }


def campaign_from(doc: Mapping[str, Any], zone: ZoneInfo) -> CampaignRule:
    """Validate a campaign definition; errors name the field and the problem.

    >>> rule = campaign_from({"code": "DOUBLE", "name": "Double points",
    ...     "valid_from": "2026-03-01", "valid_to": "2026-03-31", "multiplier_pct": 200},
    ...     ZoneInfo("Asia/Shanghai"))
    >>> rule.valid_to.isoformat()
    '2026-03-31T16:00:00+00:00'
    """
    record = "campaign"
    unknown = sorted(set(doc) - {f.name for f in fields(CampaignRule)})
    if unknown:
        raise ValidationError(record, unknown[0], "is not a campaign field")
    code, name = _code(doc, record), _name(doc, record)
    valid_from = _bound(doc, "valid_from", zone, record, end=False)
    valid_to = _bound(doc, "valid_to", zone, record, end=True)
    if valid_to <= valid_from:
        raise ValidationError(record, "valid_to", "must be after valid_from")
    days = tuple(d.lower()[:3] for d in _codes(doc, "days", record))
    bad = [d for d in days if d not in WEEKDAYS]
    if bad:
        raise ValidationError(record, "days", f"must be among {', '.join(WEEKDAYS)}")
    multiplier = _int(doc, "multiplier_pct", record, low=101, high=1000)
    fixed = _int(doc, "fixed_points", record, low=1, high=1_000_000)
    if (multiplier is None) == (fixed is None):
        raise ValidationError(record, "bonus", "give exactly one of multiplier_pct, fixed_points")
    return CampaignRule(
        code=code,
        name=name,
        valid_from=valid_from,
        valid_to=valid_to,
        stores=_codes(doc, "stores", record),
        tiers=_codes(doc, "tiers", record),
        days=tuple(sorted(set(days), key=WEEKDAYS.index)),
        min_spend_cents=_int(doc, "min_spend_cents", record) or 0,
        categories=_codes(doc, "categories", record),
        skus=_codes(doc, "skus", record),
        multiplier_pct=multiplier,
        fixed_points=fixed,
        member_cap_points=_int(doc, "member_cap_points", record, low=1),
    )


@dataclass(frozen=True, slots=True)
class BasketLine:
    """One line of an order or a basket: SKU, catalog category, amount in cents."""

    sku: str
    category: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class OrderForBonus:
    """What a campaign looks at in an order."""

    ordered_at: datetime
    store_code: str
    tier_code: str
    total_cents: int
    subtotal_cents: int
    lines: tuple[BasketLine, ...]
    earn_rate_bp: int
    tier_multiplier_pct: int


@dataclass(frozen=True, slots=True)
class BonusDecision:
    """Whether a campaign applied to an order, its points, and why (always said)."""

    code: str
    applied: bool
    points: int
    eligible_cents: int
    reason: str


def _matches(line: BasketLine, skus: Sequence[str], categories: Sequence[str]) -> bool:
    if not skus and not categories:
        return True
    return line.sku in skus or line.category in categories


def _eligible(order: OrderForBonus, rule: CampaignRule) -> int:
    total = max(order.total_cents, 0)
    if not rule.skus and not rule.categories:
        return total
    matching = sum(
        ln.amount_cents for ln in order.lines if _matches(ln, rule.skus, rule.categories)
    )
    if order.subtotal_cents <= 0:
        return 0
    # Order-level discounts are shared out pro rata, so the eligible part is after discounts.
    return min(total, matching * total // order.subtotal_cents)


def campaign_bonus(
    rule: CampaignRule, order: OrderForBonus, zone: ZoneInfo, awarded_before: int = 0
) -> BonusDecision:
    """Decide one campaign for one order, in the order's local time in `zone`.

    `awarded_before` is the bonus the member already got from this campaign (for the cap).
    A campaign that does not apply says why: a minimum spend is never silently ignored.
    """
    local = order.ordered_at.astimezone(zone)
    stamp = local.strftime("%Y-%m-%d %H:%M:%S")

    def no(reason: str, eligible: int = 0) -> BonusDecision:
        return BonusDecision(rule.code, False, 0, eligible, reason)

    if not rule.valid_from <= order.ordered_at < rule.valid_to:
        start = rule.valid_from.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        end = rule.valid_to.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return no(f"ordered {stamp} local, outside {start} to {end}")
    if rule.stores and order.store_code not in rule.stores:
        return no(f"store {order.store_code} not in the campaign")
    if rule.tiers and order.tier_code not in rule.tiers:
        return no(f"tier {order.tier_code} not in the campaign")
    weekday = WEEKDAYS[local.weekday()]
    if rule.days and weekday not in rule.days:
        return no(f"ordered on a {weekday} (local), campaign runs {'/'.join(rule.days)}")
    eligible = _eligible(order, rule)
    if eligible <= 0:
        return no("no eligible items in the order")
    if eligible < rule.min_spend_cents:
        return no(
            f"eligible spend {_money(eligible)} below the minimum {_money(rule.min_spend_cents)}",
            eligible,
        )
    if rule.fixed_points is not None:
        points = rule.fixed_points
    else:
        extra = (rule.multiplier_pct or 100) - 100
        points = (eligible * order.earn_rate_bp * order.tier_multiplier_pct * extra) // 100_000_000
    reason = "applied"
    if rule.member_cap_points is not None:
        left = max(0, rule.member_cap_points - awarded_before)
        if left == 0:
            return no(f"member cap of {rule.member_cap_points} points reached", eligible)
        if points > left:
            points, reason = left, f"capped at the member limit of {rule.member_cap_points}"
    if points <= 0:
        return no("bonus rounds to 0 points", eligible)
    return BonusDecision(rule.code, True, points, eligible, reason)


# --------------------------------------------------------------------------- coupons
@dataclass(frozen=True, slots=True)
class CouponRule:
    """A coupon definition: percent (basis points) or fixed amount off eligible items."""

    code: str
    name: str
    kind: str  # percent | fixed
    value: int  # basis points for percent, cents for fixed
    valid_from: datetime
    valid_to: datetime
    min_spend_cents: int = 0
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    per_member_limit: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The definition as JSON-ready data."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "value": self.value,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "min_spend_cents": self.min_spend_cents,
            "categories": list(self.categories),
            "skus": list(self.skus),
            "per_member_limit": self.per_member_limit,
        }


def coupon_from(doc: Mapping[str, Any], zone: ZoneInfo) -> CouponRule:
    """Validate a coupon definition; errors name the field and the problem."""
    record = "coupon"
    unknown = sorted(set(doc) - {f.name for f in fields(CouponRule)})
    if unknown:
        raise ValidationError(record, unknown[0], "is not a coupon field")
    kind = doc.get("kind")
    if kind not in ("percent", "fixed"):
        raise ValidationError(record, "kind", "must be percent or fixed")
    high = 10_000 if kind == "percent" else 10**8
    value = _int(doc, "value", record, low=1, high=high)
    if value is None:
        raise ValidationError(record, "value", "is required")
    valid_from = _bound(doc, "valid_from", zone, record, end=False)
    valid_to = _bound(doc, "valid_to", zone, record, end=True)
    if valid_to <= valid_from:
        raise ValidationError(record, "valid_to", "must be after valid_from")
    return CouponRule(
        code=_code(doc, record),
        name=_name(doc, record),
        kind=kind,
        value=value,
        valid_from=valid_from,
        valid_to=valid_to,
        min_spend_cents=_int(doc, "min_spend_cents", record) or 0,
        categories=_codes(doc, "categories", record),
        skus=_codes(doc, "skus", record),
        per_member_limit=_int(doc, "per_member_limit", record, low=1, high=1000) or 1,
    )


@dataclass(frozen=True, slots=True)
class CouponDecision:
    """What a coupon takes off a basket, whether it applies, and why not."""

    value_cents: int
    usable: bool
    reason: str


def coupon_value(
    rule: CouponRule,
    basket: Sequence[BasketLine],
    *,
    discount_bp: int,
    at: datetime,
    zone: ZoneInfo,
) -> CouponDecision:
    """Price a coupon against a basket at public prices, after the tier discount.

    The minimum spend is checked on the eligible items' public price, so a member whose
    tier discount lowers the bill never loses a coupon a lower tier would keep.
    """
    if not rule.valid_from <= at < rule.valid_to:
        stamp = at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        return CouponDecision(0, False, f"not valid at {stamp} local")
    eligible = sum(ln.amount_cents for ln in basket if _matches(ln, rule.skus, rule.categories))
    if eligible <= 0:
        return CouponDecision(0, False, "no eligible items in the basket")
    if eligible < rule.min_spend_cents:
        return CouponDecision(
            0,
            False,
            f"eligible spend {_money(eligible)} below the minimum {_money(rule.min_spend_cents)}",
        )
    after_tier = eligible - eligible * max(discount_bp, 0) // 10_000
    if rule.kind == "percent":
        value = after_tier * rule.value // 10_000
    else:
        value = min(rule.value, after_tier)
    if value <= 0:
        return CouponDecision(0, False, "nothing left to take off the eligible items")
    return CouponDecision(value, True, "")
