"""Store and catalog master data: what a valid record is (pure: no database, no I/O).

Records come from a file (CSV or JSON Lines, docs/formats.md) or an API body as plain
mappings. Each is checked field by field; an error names the record, the field and the
reason, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from memberops.errors import ValidationError

__all__ = [
    "ITEM_FIELDS",
    "MAX_PRICE_CENTS",
    "STORE_FIELDS",
    "ItemIn",
    "StoreIn",
    "parse_item",
    "parse_store",
]

STORE_FIELDS = ("code", "name", "city", "region", "timezone", "opened_on")
ITEM_FIELDS = ("sku", "name", "name_local", "category", "price_cents", "tags", "active")
# One dish at a million yuan is a typo, not a price.
MAX_PRICE_CENTS = 100_000_000

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# A leading = + - @ makes a spreadsheet run the cell as a formula when the data is
# exported and opened (OWASP CSV injection); master-data names never need one.
_FORMULA_START = ("=", "+", "-", "@")
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})


@dataclass(frozen=True)
class StoreIn:
    """One store, as the chain's master data describes it."""

    code: str
    name: str
    city: str
    region: str
    timezone: str
    opened_on: date | None = None


@dataclass(frozen=True)
class ItemIn:
    """One dish or product of the catalog."""

    sku: str
    name: str
    category: str
    price_cents: int
    name_local: str | None = None
    tags: tuple[str, ...] = ()
    active: bool = True


def _unknown(rec: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
    extra = sorted(str(k) for k in data if k not in known)
    if extra:
        raise ValidationError(rec, extra[0][:40], "is not a known field")


def _text(
    rec: str, data: Mapping[str, Any], name: str, *, max_len: int, required: bool = True
) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(rec, name, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(rec, name, "must be text")
    value = value.strip()
    if len(value) > max_len:
        raise ValidationError(rec, name, f"is longer than {max_len} characters")
    if _CONTROL.search(value):
        raise ValidationError(rec, name, "contains control characters")
    if value.startswith(_FORMULA_START):
        raise ValidationError(rec, name, "must not start with = + - or @ (spreadsheet formula)")
    return value


def _code(rec: str, data: Mapping[str, Any], name: str, *, max_len: int) -> str:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(rec, name, "is required")
    if not isinstance(value, str):
        raise ValidationError(rec, name, "must be text")
    value = value.strip()
    if len(value) > max_len:
        raise ValidationError(rec, name, f"is longer than {max_len} characters")
    if not _CODE.match(value):
        raise ValidationError(rec, name, "may hold only letters, digits, '.', '_' and '-'")
    return value


def parse_store(rec: str, data: Mapping[str, Any]) -> StoreIn:
    """A store record, checked; raises ValidationError naming the record and field."""
    _unknown(rec, data, STORE_FIELDS)
    code = _code(rec, data, "code", max_len=32)
    timezone = _text(rec, data, "timezone", max_len=64)
    assert timezone is not None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(rec, "timezone", "is not an IANA zone (e.g. Asia/Shanghai)") from None
    opened = data.get("opened_on")
    opened_on: date | None = None
    if opened not in (None, ""):
        if not isinstance(opened, str):
            raise ValidationError(rec, "opened_on", "must be a date (YYYY-MM-DD)")
        try:
            opened_on = date.fromisoformat(opened.strip())
        except ValueError:
            raise ValidationError(rec, "opened_on", "must be a date (YYYY-MM-DD)") from None
    return StoreIn(
        code=code,
        name=_text(rec, data, "name", max_len=120) or "",
        city=_text(rec, data, "city", max_len=60) or "",
        region=_text(rec, data, "region", max_len=60) or "",
        timezone=timezone,
        opened_on=opened_on,
    )


def _price(rec: str, data: Mapping[str, Any]) -> int:
    value = data.get("price_cents")
    if value is None or value == "":
        raise ValidationError(rec, "price_cents", "is required")
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}\s*", value):
        value = int(value)  # CSV cells are text
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(rec, "price_cents", "must be a whole number of cents")
    if not 0 <= value <= MAX_PRICE_CENTS:
        raise ValidationError(rec, "price_cents", f"must be between 0 and {MAX_PRICE_CENTS}")
    return value


def _tags(rec: str, data: Mapping[str, Any]) -> tuple[str, ...]:
    value = data.get("tags")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [t for t in value.split(";") if t.strip()]  # CSV: tags separated by ;
    if not isinstance(value, list) or len(value) > 20:
        raise ValidationError(rec, "tags", "must be a list of at most 20 tags")
    tags = []
    for tag in value:
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > 40:
            raise ValidationError(rec, "tags", "each tag must be text of 1 to 40 characters")
        if _CONTROL.search(tag):
            raise ValidationError(rec, "tags", "contains control characters")
        tags.append(tag.strip().lower())
    return tuple(sorted(set(tags)))


def _active(rec: str, data: Mapping[str, Any]) -> bool:
    value = data.get("active")
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValidationError(rec, "active", "must be true or false")


def parse_item(rec: str, data: Mapping[str, Any]) -> ItemIn:
    """A catalog record, checked; raises ValidationError naming the record and field."""
    _unknown(rec, data, ITEM_FIELDS)
    return ItemIn(
        sku=_code(rec, data, "sku", max_len=64),
        name=_text(rec, data, "name", max_len=160) or "",
        name_local=_text(rec, data, "name_local", max_len=160, required=False),
        category=_text(rec, data, "category", max_len=40) or "",
        price_cents=_price(rec, data),
        tags=_tags(rec, data),
        active=_active(rec, data),
    )
