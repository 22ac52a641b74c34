"""Pure identity rules: identifier kinds, normalisation, strength and survivorship.

No I/O here. The resolver (`resolver.py`) and merges (`merges.py`) apply these rules to
what is stored; everything here works on plain values and is tested without a database.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

__all__ = [
    "EXCLUSIVE_KINDS",
    "IDENTIFIER_KINDS",
    "KIND_PRIORITY",
    "SINGLE_PER_MEMBER_KINDS",
    "MemberSketch",
    "SeenIdentifier",
    "compatible",
    "fold_sketch",
    "is_strong",
    "mask",
    "normalise",
    "oldest_first",
    "record_fits",
    "review_dedupe_key",
    "review_detail",
    "survivor_and_absorbed",
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


# ------------------------------------------------------------------------ survivorship
@dataclass(slots=True)
class MemberSketch:
    """What the resolver needs to know about a member to judge compatibility."""

    created_at: datetime
    single: dict[str, str] = field(default_factory=dict)  # kind -> identifier id
    verified_phones: set[str] = field(default_factory=set)
    filled: set[str] = field(default_factory=set)  # encrypted personal columns already set
    gender_set: bool = False


def compatible(a: MemberSketch, b: MemberSketch) -> tuple[bool, str]:
    """Two members may be merged unless they contradict each other.

    Contradictions: different values of a single-per-member kind (two cards, two app
    accounts, two unionids), or each holding verified phones none of which they share
    (one card seen with two different verified phones).
    """
    for kind in sorted(SINGLE_PER_MEMBER_KINDS):
        if kind in a.single and kind in b.single and a.single[kind] != b.single[kind]:
            return False, f"both members hold a different {kind}"
    if a.verified_phones and b.verified_phones and not (a.verified_phones & b.verified_phones):
        return False, "the members hold different verified phones"
    return True, ""


def record_fits(
    sketch: MemberSketch,
    seen: Sequence[SeenIdentifier],
    identifier_ids: Mapping[tuple[str, str], str],
) -> bool:
    """Could this record be the member's without giving them a second card or account?

    `identifier_ids` maps (kind, value) to the stored identifier id, where one exists.
    """
    for s in seen:
        if (
            s.kind in SINGLE_PER_MEMBER_KINDS
            and s.kind in sketch.single
            and identifier_ids.get((s.kind, s.value)) != sketch.single[s.kind]
        ):
            return False
    return True


def survivor_and_absorbed(
    a: str, a_created: datetime, b: str, b_created: datetime
) -> tuple[str, str]:
    """The older member survives; on a tie, the smaller id (stable across reruns)."""
    return (a, b) if (a_created, a) <= (b_created, b) else (b, a)


def oldest_first(members: Iterable[tuple[str, datetime]]) -> list[str]:
    """Member ids ordered oldest first (the first survives a reviewer's merge)."""
    return [member_id for member_id, _at in sorted(members, key=lambda m: (m[1], m[0]))]


def fold_sketch(survivor: MemberSketch, absorbed: MemberSketch) -> None:
    """After a merge the survivor holds what either held (its own values first)."""
    for kind, ident in absorbed.single.items():
        survivor.single.setdefault(kind, ident)
    survivor.verified_phones |= absorbed.verified_phones
    survivor.filled |= absorbed.filled
    survivor.gender_set = survivor.gender_set or absorbed.gender_set


_REVIEW_TEXT = {
    "shared_identifier": "a verified identifier is held by members who hold different"
    " cards or accounts",
    "ambiguous_identifier": "a record's only strong identifier is shared by several"
    " members; it was not attached",
}


def review_dedupe_key(kind: str, identifier_id: str | None, member_ids: Iterable[str]) -> str:
    """One open case per kind, identifier and set of members (repeats count occurrences)."""
    members = sorted(set(member_ids))
    return f"{kind}:{identifier_id or '-'}:{','.join(members)}"[:128]


def review_detail(kind: str, detail: str | None = None) -> str:
    """What a reviewer reads about a case of `kind` (an explicit detail wins)."""
    return detail or _REVIEW_TEXT.get(kind, kind)
