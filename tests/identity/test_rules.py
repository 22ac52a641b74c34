"""Pure identity rules, without a database: identifier kinds, strength, normalisation and
the display mask. Normalisation decides whether two spellings reach the same member, so
its promises are checked as properties over generated spellings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memberops.identity.rules import (
    EXCLUSIVE_KINDS,
    IDENTIFIER_KINDS,
    KIND_PRIORITY,
    SINGLE_PER_MEMBER_KINDS,
    SeenIdentifier,
    is_strong,
    mask,
    normalise,
    normalise_email,
    normalise_phone,
    normalise_token,
)

# A busy machine can stall any single example; these tests check results, not speed.
NO_DEADLINE = settings(deadline=None)

# ---------------------------------------------------------------------------- kinds
MOBILE_PREFIXES = ("135", "138", "139", "150", "186", "188")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_every_single_per_member_kind_is_also_exclusive() -> None:
    # A card held by one member only, and one card per member: both, or neither rule holds.
    assert SINGLE_PER_MEMBER_KINDS <= EXCLUSIVE_KINDS <= set(IDENTIFIER_KINDS)


def test_priority_follows_the_order_of_kinds_with_the_card_first() -> None:
    assert sorted(KIND_PRIORITY, key=KIND_PRIORITY.__getitem__) == list(IDENTIFIER_KINDS)
    assert KIND_PRIORITY["card_no"] == 0
    assert KIND_PRIORITY["card_no"] < KIND_PRIORITY["phone"] < KIND_PRIORITY["device_id"]


@pytest.mark.parametrize("kind", sorted(EXCLUSIVE_KINDS))
@pytest.mark.parametrize("verified", [True, False])
def test_exclusive_identifiers_are_strong_whether_or_not_verified(
    kind: str, verified: bool
) -> None:
    assert is_strong(kind, verified)
    assert SeenIdentifier(kind, "value", verified).strong


@pytest.mark.parametrize("kind", ["phone", "email"])
def test_phone_and_email_are_strong_only_when_verified(kind: str) -> None:
    assert is_strong(kind, True)
    assert not is_strong(kind, False)


@pytest.mark.parametrize("verified", [True, False])
def test_a_device_id_is_never_strong(verified: bool) -> None:
    assert not is_strong("device_id", verified)


def test_every_kind_has_a_decided_strength() -> None:
    undecided = [k for k in IDENTIFIER_KINDS if k not in EXCLUSIVE_KINDS | {"phone", "email"}]
    assert undecided == ["device_id"]


# ---------------------------------------------------------------------------- phones
national_mobiles = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(MOBILE_PREFIXES),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


def spellings(digits: str) -> list[str]:
    """Ways a till, an app or a person writes one mainland mobile number."""
    spaced = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return [
        digits,
        f"+86{digits}",
        f"+86 {spaced}",
        f"86-{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        f"86{digits}",
        f"0086 {spaced}",
        f"(+86){digits}",
        f"(86) {spaced}",
        f"  {digits}\t",
        digits.translate(FULLWIDTH),
        f"+86.{digits[:3]}.{digits[3:7]}.{digits[7:]}",
    ]


@NO_DEADLINE
@given(national_mobiles)
def test_every_spelling_of_a_mobile_number_normalises_to_one_e164_value(digits: str) -> None:
    assert {normalise("phone", s) for s in spellings(digits)} == {f"+86{digits}"}


@NO_DEADLINE
@given(national_mobiles)
def test_phone_normalisation_is_idempotent(digits: str) -> None:
    once = normalise_phone(f"+86 {digits}")
    assert normalise_phone(once) == once


@NO_DEADLINE
@given(st.text(alphabet="0123456789", min_size=1, max_size=6))
def test_too_short_a_number_is_refused_without_repeating_it(digits: str) -> None:
    with pytest.raises(ValueError) as refused:
        normalise("phone", "9" + digits)
    # The reason is one of two fixed sentences: it never carries the input.
    assert str(refused.value) in {"not a phone number", "not a valid phone number"}


@NO_DEADLINE
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=20))
def test_letters_are_not_a_phone_number(text: str) -> None:
    with pytest.raises(ValueError):
        normalise("phone", text)


def test_an_integer_phone_from_a_spreadsheet_is_read_as_digits() -> None:
    assert normalise("phone", 13812345678) == "+8613812345678"


@pytest.mark.parametrize("raw", [True, None, 13.8, ["13812345678"], {"phone": 1}])
def test_a_value_that_is_not_text_or_a_whole_number_is_refused(raw: object) -> None:
    with pytest.raises(ValueError, match="must be a string"):
        normalise("phone", raw)


@pytest.mark.parametrize("raw", ["", "   ", "\t"])
def test_an_empty_value_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="is empty"):
        normalise("email", raw)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown identifier kind"):
        normalise("passport", "E12345678")


# ---------------------------------------------------------------------------- emails
local_parts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20)
domains = st.builds(
    lambda name, tld: f"{name}.{tld}",
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=15),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6),
)
emails = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)


@NO_DEADLINE
@given(emails, st.lists(st.booleans(), min_size=80, max_size=80))
def test_an_email_in_any_letter_case_and_padding_is_one_address(
    email: str, upper: list[bool]
) -> None:
    shouted = "".join(c.upper() if up else c for c, up in zip(email, upper, strict=False))
    assert normalise("email", f"  {shouted} ") == normalise("email", email) == email


@NO_DEADLINE
@given(emails)
def test_email_normalisation_is_idempotent(email: str) -> None:
    once = normalise_email(email)
    assert normalise_email(once) == once


@pytest.mark.parametrize(
    "raw", ["no-at-sign.example.com", "two@@example.com", "a@b", "a b@example.com", "@example.com"]
)
def test_a_value_not_shaped_like_an_address_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a valid email address"):
        normalise("email", raw)


def test_an_address_longer_than_254_characters_is_refused() -> None:
    with pytest.raises(ValueError):
        normalise_email("a" * 250 + "@example.com")


# ---------------------------------------------------------------------------- account ids
tokens = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@",
    min_size=3,
    max_size=60,
)


@NO_DEADLINE
@given(tokens)
def test_a_printed_card_number_ignores_case_spaces_and_dashes(card: str) -> None:
    spaced = "-".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert normalise("card_no", spaced.lower()) == normalise("card_no", card) == card.upper()


@NO_DEADLINE
@given(tokens)
def test_account_ids_other_than_cards_keep_their_case(token: str) -> None:
    assert normalise("app_user_id", f" {token} ") == token
    assert normalise("wechat_openid", token) == token


@NO_DEADLINE
@given(tokens, st.sampled_from(sorted(set(IDENTIFIER_KINDS) - {"phone", "email"})))
def test_token_normalisation_is_idempotent(token: str, kind: str) -> None:
    once = normalise(kind, token)
    assert normalise(kind, once) == once


@pytest.mark.parametrize("raw", ["ab", "x" * 129, "has space", "semi;colon", "中文卡号"])
def test_an_account_id_outside_3_to_128_plain_characters_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a valid identifier"):
        normalise_token(raw)


def test_fullwidth_characters_are_folded_before_checking() -> None:
    assert normalise("card_no", "ＨＤ１２３４") == "HD1234"


# ---------------------------------------------------------------------------- mask
@NO_DEADLINE
@given(national_mobiles)
def test_a_masked_phone_shows_the_first_three_and_last_four_digits_only(digits: str) -> None:
    masked = mask("phone", f"+86{digits}")
    assert masked == f"{digits[:3]}****{digits[-4:]}"


@NO_DEADLINE
@given(emails)
def test_a_masked_email_keeps_the_first_letter_and_the_domain(email: str) -> None:
    local, _, domain = email.partition("@")
    assert mask("email", email) == f"{local[0]}***@{domain}"


@NO_DEADLINE
@given(tokens)
def test_a_masked_account_id_shows_at_most_its_last_four_characters(token: str) -> None:
    masked = mask("card_no", token)
    assert len(masked) == len(token)
    visible = masked.lstrip("*")
    assert len(visible) <= 4 and token.endswith(visible)
    if len(token) <= 4:
        assert visible == ""
