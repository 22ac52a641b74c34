"""Pure rules for incoming records: validation, normalisation, meal types, content hashes.

Every error names the record and the field and says why, and never repeats the value:
"orders.csv line 17, field customer.phone: not a valid phone number".
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from memberops import clock
from memberops.errors import ValidationError
from memberops.identity.rules import IDENTIFIER_KINDS, SeenIdentifier, normalise
from memberops.privacy.rules import PURPOSES

__all__ = [
    "CHANNELS",
    "MEAL_TYPES",
    "AdjustmentDraft",
    "ConsentDraft",
    "CustomerDraft",
    "EventDraft",
    "LineDraft",
    "OrderDraft",
    "meal_type_at",
    "parse_adjustment",
    "parse_consent",
    "parse_event",
    "parse_order",
]

CHANNELS = frozenset(
    {"pos", "app", "miniprogram", "official_account", "web", "kiosk", "delivery", "phone"}
)
MEAL_TYPES = ("breakfast", "lunch", "afternoon", "dinner", "late_night")
EVENT_TYPES = frozenset({"share", "referral", "review", "survey_answer", "complaint"})
GENDERS = frozenset({"male", "female", "other"})
_VERIFIED_FLAG = {"phone": "phone_verified", "email": "email_verified"}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f]")
MAX_LINES = 500
MAX_QUANTITY = 10_000
MAX_CENTS = 10**11  # a billion in major units: beyond any real restaurant ticket


@dataclass(frozen=True, slots=True)
class CustomerDraft:
    identifiers: tuple[SeenIdentifier, ...] = ()
    name: str | None = None
    nickname: str | None = None
    birthday: str | None = None
    gender: str | None = None
    # Contact details that could not be used and were left out (see parse_customer).
    warnings: tuple[ValidationError, ...] = ()


@dataclass(frozen=True, slots=True)
class LineDraft:
    sku: str
    quantity: int
    unit_price_cents: int
    modifiers: tuple[str, ...]

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True, slots=True)
class OrderDraft:
    locator: str
    source: str
    source_order_id: str
    channel: str
    store_code: str
    ordered_at: datetime
    utc_offset_minutes: int
    meal_type: str
    party_size: int | None
    customer: CustomerDraft
    lines: tuple[LineDraft, ...]
    discount_cents: int
    total_cents: int
    currency: str
    vouchers: tuple[str, ...]
    content_hash: str = field(default="")

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.source_order_id)

    @property
    def subtotal_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)


@dataclass(frozen=True, slots=True)
class AdjustmentDraft:
    locator: str
    kind: str  # refund | void
    source: str
    source_adjustment_id: str
    source_order_id: str
    occurred_at: datetime
    amount_cents: int | None  # None for a void: the whole order
    reason: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class EventDraft:
    locator: str
    source: str
    source_event_id: str
    type: str
    occurred_at: datetime
    store_code: str | None
    customer: CustomerDraft
    rating: int | None
    referred: SeenIdentifier | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class ConsentDraft:
    locator: str
    source: str
    channel: str
    customer: CustomerDraft
    purpose: str
    granted: bool
    at: datetime
    notice_version: str


# ---------------------------------------------------------------------------- primitives
def _text(
    rec: str, data: Mapping[str, Any], name: str, *, max_len: int, required: bool = True
) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(rec, name, "is required")
        return None
    if not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        else:
            raise ValidationError(rec, name, "must be text")
    value = value.strip()
    if len(value) > max_len:
        raise ValidationError(rec, name, f"is longer than {max_len} characters")
    if _CONTROL.search(value):
        raise ValidationError(rec, name, "contains control characters")
    return value


def _int(
    rec: str,
    data: Mapping[str, Any],
    name: str,
    *,
    minimum: int,
    maximum: int,
    required: bool = True,
    default: int | None = None,
) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ValidationError(rec, name, "is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float):
            raise ValidationError(rec, name, "must be a whole number (money is integer cents)")
        raise ValidationError(rec, name, "must be a whole number")
    if value < minimum:
        raise ValidationError(rec, name, f"must be at least {minimum}")
    if value > maximum:
        raise ValidationError(rec, name, f"must be at most {maximum}")
    return int(value)


def _bool(rec: str, data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise ValidationError(rec, name, "must be true or false")


def parse_time(rec: str, name: str, value: Any, *, zone: ZoneInfo | None) -> datetime:
    """ISO 8601 with an offset; without one it is read in `zone` (the store's timezone)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError(rec, name, "is not an ISO 8601 date-time") from exc
    else:
        raise ValidationError(rec, name, "is required (ISO 8601 date-time)")
    if parsed.tzinfo is None:
        if zone is None:
            raise ValidationError(rec, name, "has no UTC offset and no store timezone applies")
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def normalise_modifier(raw: str) -> str:
    """'  No   Onions ' -> 'no onions': one spelling per requirement, for top-5 counts."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip().casefold()


def meal_type_at(local: time) -> str:
    """The meal a local time belongs to (hot-pot chains serve late into the night)."""
    minutes = local.hour * 60 + local.minute
    if 300 <= minutes < 630:
        return "breakfast"
    if 630 <= minutes < 870:
        return "lunch"
    if 870 <= minutes < 1020:
        return "afternoon"
    if 1020 <= minutes < 1290:
        return "dinner"
    return "late_night"


def content_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of a record's business content (personal values are never hashed)."""
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------------------- customer
# A till's typo in these must not cost the sale: the order is stored without them.
_DROPPABLE_KINDS = frozenset({"phone", "email"})


def parse_customer(
    rec: str, value: Any, *, prefix: str = "customer", lenient: bool = False
) -> CustomerDraft:
    """The customer block of a record.

    With `lenient` (orders), a phone or email that cannot be used (malformed, not a
    mobile number) is left out and reported in `warnings` instead of failing the record:
    the sale and the card, app account or unionid beside it are still stored.
    """
    if value is None:
        return CustomerDraft()
    if not isinstance(value, Mapping):
        raise ValidationError(rec, prefix, "must be an object")
    unknown = (
        set(value)
        - set(IDENTIFIER_KINDS)
        - set(_VERIFIED_FLAG.values())
        - {"name", "nickname", "birthday", "gender"}
    )
    if unknown:
        raise ValidationError(rec, f"{prefix}.{sorted(unknown)[0]}", "is not a known field")
    seen: list[SeenIdentifier] = []
    warnings: list[ValidationError] = []
    for kind in IDENTIFIER_KINDS:
        raw = value.get(kind)
        if raw is None or raw == "":
            continue
        try:
            normalised = normalise(kind, raw)
        except ValueError as exc:
            if lenient and kind in _DROPPABLE_KINDS:
                warnings.append(
                    ValidationError(
                        rec, f"{prefix}.{kind}", f"{exc}; ignored, the rest of the record stored"
                    )
                )
                continue
            raise ValidationError(rec, f"{prefix}.{kind}", str(exc)) from None
        flag = _VERIFIED_FLAG.get(kind)
        verified = _bool(rec, value, flag) if flag else True
        seen.append(SeenIdentifier(kind=kind, value=normalised, verified=verified))
    name = _text(rec, value, "name", max_len=120, required=False)
    nickname = _text(rec, value, "nickname", max_len=120, required=False)
    birthday = value.get("birthday")
    if birthday not in (None, ""):
        try:
            born = date.fromisoformat(str(birthday))
        except ValueError:
            raise ValidationError(rec, f"{prefix}.birthday", "is not an ISO date") from None
        # "Today" from the process clock, so tests that set the clock see the same rule.
        if not date(1900, 1, 1) <= born <= clock.now().date():
            raise ValidationError(rec, f"{prefix}.birthday", "is outside 1900 to today")
        birthday = born.isoformat()
    else:
        birthday = None
    gender = value.get("gender")
    if gender not in (None, ""):
        if not isinstance(gender, str) or gender.casefold() not in GENDERS:
            raise ValidationError(rec, f"{prefix}.gender", "must be male, female or other")
        gender = gender.casefold()
    else:
        gender = None
    return CustomerDraft(tuple(seen), name, nickname, birthday, gender, tuple(warnings))


# ---------------------------------------------------------------------------- records
def parse_order(
    rec: str,
    data: Mapping[str, Any],
    *,
    store_zones: Mapping[str, ZoneInfo],
    known_skus: frozenset[str] | set[str],
) -> OrderDraft:
    """Validate one order record (the JSON shape documented in docs/formats.md)."""
    if not isinstance(data, Mapping):
        raise ValidationError(rec, "-", "must be a JSON object")
    source = _text(rec, data, "source", max_len=40)
    source_order_id = _text(rec, data, "source_order_id", max_len=80)
    channel = _text(rec, data, "channel", max_len=24)
    assert source and source_order_id and channel
    channel = channel.casefold()
    if channel not in CHANNELS:
        raise ValidationError(rec, "channel", f"must be one of {', '.join(sorted(CHANNELS))}")
    store_code = _text(rec, data, "store_code", max_len=32)
    assert store_code
    zone = store_zones.get(store_code)
    if zone is None:
        raise ValidationError(rec, "store_code", "is not a known store")
    ordered_at = parse_time(rec, "ordered_at", data.get("ordered_at"), zone=zone)
    offset = ordered_at.utcoffset()
    assert offset is not None
    meal_type = _text(rec, data, "meal_type", max_len=16, required=False)
    if meal_type is None:
        meal_type = meal_type_at(ordered_at.timetz())
    elif meal_type not in MEAL_TYPES:
        raise ValidationError(rec, "meal_type", f"must be one of {', '.join(MEAL_TYPES)}")
    party_size = _int(rec, data, "party_size", minimum=1, maximum=200, required=False)
    customer = parse_customer(rec, data.get("customer"), lenient=True)

    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ValidationError(rec, "lines", "must be a non-empty list")
    if len(raw_lines) > MAX_LINES:
        raise ValidationError(rec, "lines", f"has more than {MAX_LINES} lines")
    lines: list[LineDraft] = []
    for i, raw in enumerate(raw_lines, start=1):
        where = f"lines[{i}]"
        if not isinstance(raw, Mapping):
            raise ValidationError(rec, where, "must be an object")
        sku = _text(rec, raw, "sku", max_len=64)
        assert sku
        if sku not in known_skus:
            raise ValidationError(rec, f"{where}.sku", "is not a known item")
        try:
            quantity = _int(rec, raw, "quantity", minimum=1, maximum=MAX_QUANTITY)
            unit = _int(rec, raw, "unit_price_cents", minimum=0, maximum=MAX_CENTS)
        except ValidationError as exc:
            raise ValidationError(rec, f"{where}.{exc.field}", exc.reason) from None
        assert quantity is not None and unit is not None
        modifiers = raw.get("modifiers") or []
        if isinstance(modifiers, str):
            modifiers = [m for m in modifiers.split(";") if m.strip()]
        if not isinstance(modifiers, list) or not all(isinstance(m, str) for m in modifiers):
            raise ValidationError(rec, f"{where}.modifiers", "must be a list of text")
        cleaned = tuple(normalise_modifier(m) for m in modifiers if m.strip())
        if any(len(m) > 80 for m in cleaned):
            raise ValidationError(rec, f"{where}.modifiers", "has a modifier over 80 characters")
        lines.append(LineDraft(sku, quantity, unit, cleaned))

    discount = _int(
        rec, data, "discount_cents", minimum=0, maximum=MAX_CENTS, required=False, default=0
    )
    total = _int(rec, data, "total_cents", minimum=0, maximum=MAX_CENTS)
    assert discount is not None and total is not None
    subtotal = sum(line.total_cents for line in lines)
    if subtotal - discount != total:
        raise ValidationError(
            rec,
            "total_cents",
            f"does not add up: lines come to {subtotal}, less discount {discount},"
            f" is {subtotal - discount}",
        )
    currency = (_text(rec, data, "currency", max_len=3, required=False) or "CNY").upper()
    if not _CURRENCY.match(currency):
        raise ValidationError(rec, "currency", "must be a 3-letter ISO 4217 code")
    vouchers_raw = data.get("vouchers") or []
    if isinstance(vouchers_raw, str):
        vouchers_raw = [v for v in vouchers_raw.split(";") if v.strip()]
    if not isinstance(vouchers_raw, list) or not all(isinstance(v, str) for v in vouchers_raw):
        raise ValidationError(rec, "vouchers", "must be a list of voucher codes")
    vouchers = tuple(v.strip() for v in vouchers_raw)

    business = {
        "channel": channel,
        "store_code": store_code,
        "ordered_at": ordered_at.isoformat(),
        "meal_type": meal_type,
        "party_size": party_size,
        "lines": [[ln.sku, ln.quantity, ln.unit_price_cents, list(ln.modifiers)] for ln in lines],
        "discount_cents": discount,
        "total_cents": total,
        "currency": currency,
        "vouchers": list(vouchers),
        "identifier_kinds": sorted({s.kind for s in customer.identifiers}),
    }
    return OrderDraft(
        locator=rec,
        source=source,
        source_order_id=source_order_id,
        channel=channel,
        store_code=store_code,
        ordered_at=ordered_at,
        utc_offset_minutes=int(offset.total_seconds() // 60),
        meal_type=meal_type,
        party_size=party_size,
        customer=customer,
        lines=tuple(lines),
        discount_cents=discount,
        total_cents=total,
        currency=currency,
        vouchers=vouchers,
        content_hash=content_hash(business),
    )


def parse_adjustment(rec: str, data: Mapping[str, Any]) -> AdjustmentDraft:
    """A refund (`source_refund_id`, `amount_cents`) or a void (`source_void_id`)."""
    kind = str(data.get("record_type"))
    source = _text(rec, data, "source", max_len=40)
    id_field = "source_refund_id" if kind == "refund" else "source_void_id"
    adjustment_id = _text(rec, data, id_field, max_len=80)
    order_id = _text(rec, data, "source_order_id", max_len=80)
    at_field = "refunded_at" if kind == "refund" else "voided_at"
    occurred_at = parse_time(rec, at_field, data.get(at_field), zone=None)
    amount = (
        _int(rec, data, "amount_cents", minimum=1, maximum=MAX_CENTS) if kind == "refund" else None
    )
    reason = _text(rec, data, "reason", max_len=200, required=False)
    assert source and adjustment_id and order_id
    return AdjustmentDraft(
        locator=rec,
        kind=kind,
        source=source,
        source_adjustment_id=adjustment_id,
        source_order_id=order_id,
        occurred_at=occurred_at,
        amount_cents=amount,
        reason=reason,
        content_hash=content_hash(
            {
                "kind": kind,
                "order": order_id,
                "at": occurred_at.isoformat(),
                "amount": amount,
                "reason": reason,
            }
        ),
    )


def parse_event(
    rec: str, data: Mapping[str, Any], *, store_zones: Mapping[str, ZoneInfo]
) -> EventDraft:
    """An engagement event: share, referral, review, survey answer or complaint."""
    source = _text(rec, data, "source", max_len=40)
    event_id = _text(rec, data, "source_event_id", max_len=80)
    event_type = _text(rec, data, "type", max_len=24)
    assert source and event_id and event_type
    if event_type not in EVENT_TYPES:
        raise ValidationError(rec, "type", f"must be one of {', '.join(sorted(EVENT_TYPES))}")
    store_code = _text(rec, data, "store_code", max_len=32, required=False)
    zone = None
    if store_code is not None:
        zone = store_zones.get(store_code)
        if zone is None:
            raise ValidationError(rec, "store_code", "is not a known store")
    occurred_at = parse_time(rec, "occurred_at", data.get("occurred_at"), zone=zone)
    rating = _int(rec, data, "rating", minimum=1, maximum=5, required=False)
    customer = parse_customer(rec, data.get("customer"))
    referred = None
    if data.get("referred_phone"):
        try:
            referred = SeenIdentifier("phone", normalise("phone", data["referred_phone"]), False)
        except ValueError as exc:
            raise ValidationError(rec, "referred_phone", str(exc)) from None
    return EventDraft(
        locator=rec,
        source=source,
        source_event_id=event_id,
        type=event_type,
        occurred_at=occurred_at,
        store_code=store_code,
        customer=customer,
        rating=rating,
        referred=referred,
        content_hash=content_hash(
            {
                "type": event_type,
                "at": occurred_at.isoformat(),
                "store": store_code,
                "rating": rating,
                "kinds": sorted(s.kind for s in customer.identifiers),
            }
        ),
    )


def parse_consent(rec: str, data: Mapping[str, Any]) -> ConsentDraft:
    """A consent decision arriving from a channel (the member is found by identifiers)."""
    source = _text(rec, data, "source", max_len=40)
    purpose = _text(rec, data, "purpose", max_len=32)
    notice = _text(rec, data, "notice_version", max_len=32)
    assert source and purpose and notice
    if purpose not in PURPOSES:
        raise ValidationError(rec, "purpose", f"must be one of {', '.join(PURPOSES)}")
    granted = data.get("granted")
    if not isinstance(granted, bool):
        raise ValidationError(rec, "granted", "must be true or false")
    at = parse_time(rec, "at", data.get("at"), zone=None)
    customer = parse_customer(rec, data.get("customer"))
    if not any(s.strong for s in customer.identifiers):
        raise ValidationError(rec, "customer", "needs a strong identifier to find the member")
    channel = (_text(rec, data, "channel", max_len=24, required=False) or source).casefold()
    return ConsentDraft(rec, source, channel, customer, purpose, granted, at, notice)
