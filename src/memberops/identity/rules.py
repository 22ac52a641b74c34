"""Pure identity rules: identifier kinds, normalisation, strength and survivorship.

No I/O here. The resolver in `service.py` applies these rules to what is stored.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

__all__ = [
    "EXCLUSIVE_KINDS",
    "IDENTIFIER_KINDS",
    "KIND_PRIORITY",
    "SINGLE_PER_MEMBER_KINDS",
    "SeenIdentifier",
    "is_strong",
    "mask",
    "normalise",
]

# Every kind a record may carry, with its properties:
#   strong      - may attach a record to a member or create one (phone/email only when verified)
#   exclusive   - one value belongs to at most one member (a card is one person's)
#   single      - a member holds at most one value of this kind ("unique namespace"):
#                 two different cards never collapse into one member
IDENTIFIER_KINDS = (
    "card_no",
    "app_user_id",
    "wechat_unionid",
    "wechat_openid",
    "pos_customer_code",
    "phone",
    "email",
    "device_id",
)
EXCLUSIVE_KINDS = frozenset(
    {"card_no", "app_user_id", "wechat_unionid", "wechat_openid", "pos_customer_code"}
)
SINGLE_PER_MEMBER_KINDS = frozenset({"card_no", "app_user_id", "wechat_unionid"})
ALWAYS_STRONG_KINDS = EXCLUSIVE_KINDS
VERIFIABLE_KINDS = frozenset({"phone", "email"})
WEAK_KINDS = frozenset({"device_id"})
# Which identifier decides when a record's identifiers point at different members.
KIND_PRIORITY = {kind: rank for rank, kind in enumerate(IDENTIFIER_KINDS)}

DEFAULT_PHONE_REGION = "CN"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOKEN = re.compile(r"^[0-9A-Za-z_\-.:@]{3,128}$")


@dataclass(frozen=True, slots=True)
class SeenIdentifier:
    """An identifier as seen on one record, normalised."""

    kind: str
    value: str
    verified: bool

    @property
    def strong(self) -> bool:
        return is_strong(self.kind, self.verified)


def is_strong(kind: str, verified: bool) -> bool:
    """Strong identifiers attach or create members; weak ones never merge on their own."""
    if kind in ALWAYS_STRONG_KINDS:
        return True
    if kind in VERIFIABLE_KINDS:
        return verified
    return False


def normalise_phone(raw: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 form of a phone number; ValueError with a reason (never the number) if invalid.

    >>> normalise_phone("+86 138-1234-5678")
    '+8613812345678'
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text = re.sub(r"^\(\+?(\d{1,3})\)", r"+\1", text)  # "(+86)138..." -> "+86138..."
    digits = re.sub(r"[\s\-().]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    # Mainland numbers written as "86138..." without "+".
    if not digits.startswith("+") and digits.startswith("86") and len(digits) == 13:
        digits = "+" + digits
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """Case-folded, trimmed email; ValueError if it is not shaped like an address."""
    text = unicodedata.normalize("NFKC", raw).strip().casefold()
    if not _EMAIL.match(text) or len(text) > 254:
        raise ValueError("not a valid email address")
    return text


def normalise_token(raw: str, *, upper: bool = False) -> str:
    """Account-like ids: trimmed, NFKC, printable ASCII without spaces."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = re.sub(r"[\s\-]", "", text) if upper else text
    if upper:
        text = text.upper()
    if not _TOKEN.match(text):
        raise ValueError("not a valid identifier (3-128 letters, digits or _-.:@)")
    return text


def normalise(kind: str, raw: object) -> str:
    """Normalise a raw identifier of `kind`; ValueError names the reason, never the value."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise ValueError("must be a string")
    return _normalise_text(kind, str(raw))


# Customers come back: the same raw phone recurs on many orders, and phone parsing is the
# costliest step of validating an order.
@functools.lru_cache(maxsize=65_536)
def _normalise_text(kind: str, text: str) -> str:
    if not text.strip():
        raise ValueError("is empty")
    if kind == "phone":
        return normalise_phone(text)
    if kind == "email":
        return normalise_email(text)
    if kind == "card_no":
        return normalise_token(text, upper=True)  # cards are printed; case and dashes vary
    if kind in IDENTIFIER_KINDS:
        return normalise_token(text)
    raise ValueError(f"unknown identifier kind {kind!r}")


def mask(kind: str, value: str) -> str:
    """The display form, derived on read and never stored: `138****5678`, `l***@example.com`."""
    if kind == "phone":
        national = value[3:] if value.startswith("+86") else value.lstrip("+")
        if len(national) <= 7:
            return national[:2] + "*" * max(len(national) - 2, 0)
        return f"{national[:3]}****{national[-4:]}"
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
