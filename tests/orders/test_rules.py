"""Pure rules for incoming records, without a database: validation that names the record,
the field and the reason (never the value), meal types, modifiers and content hashes.
The parsers are checked as properties over generated orders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memberops.errors import ValidationError
from memberops.orders.rules import (
    MEAL_TYPES,
    content_hash,
    meal_type_at,
    normalise_modifier,
    parse_adjustment,
    parse_consent,
    parse_customer,
    parse_event,
    parse_order,
    parse_time,
)

# A busy machine can stall any single example; these tests check results, not speed.
NO_DEADLINE = settings(deadline=None)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = {"BJ001": SHANGHAI, "NY001": ZoneInfo("America/New_York")}
PRICES = {"BR001": 6800, "MT001": 4800, "VG001": 1200}
SKUS = frozenset(PRICES)


def subtotal(lines: Any) -> int:
    """What well-formed lines come to (0 for the malformed ones some tests send)."""
    if not isinstance(lines, list) or not all(isinstance(ln, dict) for ln in lines):
        return 0
    return sum(ln["quantity"] * ln["unit_price_cents"] for ln in lines)


def an_order(**changes: Any) -> dict[str, Any]:
    lines = changes.pop(
        "lines",
        [
            {"sku": "BR001", "quantity": 1, "unit_price_cents": 6800, "modifiers": ["No Onions"]},
            {"sku": "MT001", "quantity": 2, "unit_price_cents": 4800},
        ],
    )
    discount = changes.get("discount_cents", 0)
    order = {
        "source": "pos",
        "source_order_id": "A-1",
        "channel": "pos",
        "store_code": "BJ001",
        "ordered_at": "2026-03-01T18:30:00+08:00",
        "customer": {"phone": "13812345678", "phone_verified": True},
        "lines": lines,
        "total_cents": subtotal(lines) - discount,
    }
    order.update(changes)
    return order


def parse(data: Any) -> Any:
    return parse_order("orders.jsonl line 7", data, store_zones=ZONES, known_skus=SKUS)


def refusal(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        parse(data)
    assert refused.value.record == "orders.jsonl line 7"
    return refused.value


# ---------------------------------------------------------------------------- orders
def test_a_valid_order_becomes_a_draft_with_normalised_content() -> None:
    draft = parse(an_order(channel=" POS "))
    assert draft.key == ("pos", "A-1")
    assert draft.channel == "pos"
    assert draft.ordered_at == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert draft.utc_offset_minutes == 480
    assert draft.meal_type == "dinner"
    assert draft.subtotal_cents == draft.total_cents == 16400
    assert draft.currency == "CNY"
    assert draft.lines[0].modifiers == ("no onions",)
    (phone,) = draft.customer.identifiers
    assert (phone.kind, phone.value, phone.strong) == ("phone", "+8613812345678", True)
    assert len(draft.content_hash) == 64


line_items = st.lists(
    st.fixed_dictionaries(
        {
            "sku": st.sampled_from(sorted(SKUS)),
            "quantity": st.integers(min_value=1, max_value=50),
            "unit_price_cents": st.integers(min_value=0, max_value=200_000),
        }
    ),
    min_size=1,
    max_size=8,
)


@NO_DEADLINE
@given(line_items, st.integers(min_value=0, max_value=10**6), st.integers(-3, 3))
def test_an_order_is_accepted_exactly_when_its_total_adds_up(
    lines: list[dict[str, Any]], discount: int, error_cents: int
) -> None:
    subtotal = sum(ln["quantity"] * ln["unit_price_cents"] for ln in lines)
    total = subtotal - discount + error_cents
    data = an_order(lines=lines, discount_cents=discount, total_cents=total)
    if total < 0:
        assert refusal(data).field == "total_cents"
    elif error_cents:
        error = refusal(data)
        assert error.field == "total_cents" and error.reason.startswith("does not add up")
    else:
        draft = parse(data)
        assert draft.total_cents == total
        assert draft.subtotal_cents - draft.discount_cents == draft.total_cents


def shuffled(data: dict[str, Any], order: list[int]) -> dict[str, Any]:
    keys = list(data)
    return {keys[i]: data[keys[i]] for i in order}


@NO_DEADLINE
@given(st.permutations(list(range(len(an_order())))))
def test_the_content_hash_does_not_depend_on_key_order(order: list[int]) -> None:
    assert parse(shuffled(an_order(), order)).content_hash == parse(an_order()).content_hash


@NO_DEADLINE
@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_the_content_hash_holds_no_personal_value(phone_rest: str) -> None:
    """Two orders that differ only in the customer's phone hash alike: the hash covers the
    kinds of identifiers, never their values."""
    other = an_order(customer={"phone": f"139{phone_rest}", "phone_verified": True})
    assert parse(other).content_hash == parse(an_order()).content_hash


@pytest.mark.parametrize(
    "change",
    [
        {"discount_cents": 100},
        {"ordered_at": "2026-03-01T18:31:00+08:00"},
        {"store_code": "NY001", "ordered_at": "2026-03-01T18:30:00-05:00"},
        {"vouchers": ["V1"]},
        {"party_size": 3},
        {"customer": {"card_no": "HD1"}},
    ],
    ids=["discount", "time", "store", "voucher", "party", "identifier-kinds"],
)
def test_any_change_of_business_content_changes_the_hash(change: dict[str, Any]) -> None:
    assert parse(an_order(**change)).content_hash != parse(an_order()).content_hash


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"source": None}, "source", "is required"),
        ({"source_order_id": "  "}, "source_order_id", "is required"),
        ({"source_order_id": "x" * 81}, "source_order_id", "is longer than 80"),
        ({"source_order_id": "A\x00B"}, "source_order_id", "control characters"),
        ({"channel": "fax"}, "channel", "must be one of"),
        ({"store_code": "NOPE"}, "store_code", "is not a known store"),
        ({"ordered_at": "yesterday"}, "ordered_at", "ISO 8601"),
        ({"meal_type": "brunch"}, "meal_type", "must be one of"),
        ({"party_size": 0}, "party_size", "at least 1"),
        ({"party_size": True}, "party_size", "whole number"),
        ({"lines": []}, "lines", "non-empty"),
        ({"lines": "BR001"}, "lines", "non-empty"),
        ({"lines": ["BR001"]}, "lines[1]", "must be an object"),
        ({"lines": [{"sku": "NOPE", "quantity": 1, "unit_price_cents": 0}]}, "lines[1].sku", ""),
        (
            {"lines": [{"sku": "BR001", "quantity": 1, "unit_price_cents": 68.0}]},
            "lines[1].unit_price_cents",
            "money is integer cents",
        ),
        (
            {"lines": [{"sku": "BR001", "quantity": 10_001, "unit_price_cents": 1}]},
            "lines[1].quantity",
            "at most 10000",
        ),
        (
            {"lines": [{"sku": "BR001", "quantity": 1, "unit_price_cents": 1, "modifiers": [1]}]},
            "lines[1].modifiers",
            "list of text",
        ),
        ({"currency": "yuan"}, "currency", "longer than 3"),
        ({"currency": "C1Y"}, "currency", "ISO 4217"),
        ({"vouchers": [1, 2]}, "vouchers", "voucher codes"),
        ({"customer": "13812345678"}, "customer", "must be an object"),
        ({"customer": {"shoe_size": 42}}, "customer.shoe_size", "not a known field"),
    ],
)
def test_bad_input_names_the_field_and_the_reason(
    change: dict[str, Any], field: str, reason: str
) -> None:
    data = an_order(**change)
    if "lines" in change and isinstance(change["lines"], list):
        data["total_cents"] = 0  # the line is what is wrong, not the total
    error = refusal(data)
    assert error.field == field
    assert reason in error.reason


def test_a_record_that_is_not_an_object_is_refused() -> None:
    assert refusal(["not", "an", "order"]).field == "-"


def test_a_list_of_more_than_500_lines_is_refused() -> None:
    line = {"sku": "VG001", "quantity": 1, "unit_price_cents": 1}
    assert refusal(an_order(lines=[line] * 501)).reason == "has more than 500 lines"


def test_flat_file_modifiers_and_vouchers_are_split_on_semicolons() -> None:
    line = {
        "sku": "VG001",
        "quantity": 1,
        "unit_price_cents": 1200,
        "modifiers": "No Ice; ;less salt",
    }
    draft = parse(an_order(lines=[line], vouchers="V1;V2;"))
    assert draft.lines[0].modifiers == ("no ice", "less salt")
    assert draft.vouchers == ("V1", "V2")


@NO_DEADLINE
@given(st.text(alphabet="0123456789-+ ", min_size=3, max_size=25))
def test_an_unusable_phone_is_left_out_with_a_warning_that_does_not_repeat_it(raw: str) -> None:
    # Nothing lost: the order is kept, the unusable phone is dropped and reported.
    draft = parse(an_order(customer={"phone": raw, "phone_verified": True}))
    phones = [i for i in draft.customer.identifiers if i.kind == "phone"]
    if phones:
        assert phones[0].value.startswith("+")
        return
    (warning,) = draft.customer.warnings
    assert warning.field == "customer.phone"
    digits = "".join(c for c in raw if c.isdigit())
    if len(digits) >= 4:
        assert digits not in str(warning)


# ---------------------------------------------------------------------------- times
def test_a_time_without_an_offset_is_read_in_the_store_timezone() -> None:
    draft = parse(an_order(store_code="NY001", ordered_at="2026-07-04T12:00:00"))
    assert draft.ordered_at.utcoffset() == timedelta(hours=-4)
    assert draft.utc_offset_minutes == -240
    assert draft.meal_type == "lunch"


def test_a_utc_z_suffix_is_understood() -> None:
    parsed = parse_time("r", "at", "2026-03-01T10:30:00Z", zone=None)
    assert parsed == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


def test_a_time_without_an_offset_and_without_a_store_is_refused() -> None:
    with pytest.raises(ValidationError, match="no UTC offset"):
        parse_time("r", "at", "2026-03-01T10:30:00", zone=None)


@NO_DEADLINE
@given(
    st.datetimes(
        timezones=st.sampled_from([UTC, SHANGHAI, ZoneInfo("Europe/Berlin")]),
        allow_imaginary=False,
    )
)
def test_an_aware_time_survives_its_iso_text(moment: datetime) -> None:
    parsed = parse_time("r", "at", moment.isoformat(), zone=None)
    # Compared as instants: a time in a DST fold is never "equal" across tzinfo objects.
    assert parsed.timestamp() == moment.timestamp()
    assert parsed.utcoffset() == moment.utcoffset()


@NO_DEADLINE
@given(st.times())
def test_every_time_of_day_belongs_to_exactly_one_meal(local: time) -> None:
    assert meal_type_at(local) in MEAL_TYPES


@pytest.mark.parametrize(
    ("hhmm", "meal"),
    [
        ("04:59", "late_night"),
        ("05:00", "breakfast"),
        ("10:29", "breakfast"),
        ("10:30", "lunch"),
        ("14:29", "lunch"),
        ("14:30", "afternoon"),
        ("16:59", "afternoon"),
        ("17:00", "dinner"),
        ("21:29", "dinner"),
        ("21:30", "late_night"),
        ("00:00", "late_night"),
    ],
)
def test_meal_boundaries(hhmm: str, meal: str) -> None:
    assert meal_type_at(time.fromisoformat(hhmm)) == meal


# ---------------------------------------------------------------------------- modifiers, hashes
@NO_DEADLINE
@given(st.text(max_size=40))
def test_modifier_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_modifier(raw)
    assert normalise_modifier(once) == once


@NO_DEADLINE
@given(st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=8), min_size=1, max_size=4))
def test_modifiers_that_differ_in_case_and_spacing_are_one_requirement(words: list[str]) -> None:
    plain = " ".join(words)
    messy = "  " + "   ".join(w.upper() for w in words) + "\t"
    assert normalise_modifier(messy) == normalise_modifier(plain) == plain


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@NO_DEADLINE
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_content_hash_is_stable_under_key_order_and_a_json_round_trip(
    payload: dict[str, Any],
) -> None:
    reordered = dict(reversed(list(payload.items())))
    assert content_hash(reordered) == content_hash(json.loads(json.dumps(payload)))


# ---------------------------------------------------------------------------- other records
def test_a_refund_needs_a_positive_amount_and_a_void_has_none() -> None:
    refund = {
        "record_type": "refund",
        "source": "pos",
        "source_refund_id": "R1",
        "source_order_id": "A-1",
        "refunded_at": "2026-03-02T10:00:00+08:00",
        "amount_cents": 500,
    }
    draft = parse_adjustment("r", refund)
    assert (draft.kind, draft.amount_cents) == ("refund", 500)
    with pytest.raises(ValidationError, match="at least 1"):
        parse_adjustment("r", {**refund, "amount_cents": 0})
    void = {
        "record_type": "void",
        "source": "pos",
        "source_void_id": "V1",
        "source_order_id": "A-1",
        "voided_at": "2026-03-02T10:00:00+08:00",
    }
    assert parse_adjustment("r", void).amount_cents is None
    assert parse_adjustment("r", void).content_hash != draft.content_hash


def test_an_event_type_outside_the_known_ones_is_refused() -> None:
    event = {
        "source": "app",
        "source_event_id": "E1",
        "type": "review",
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "rating": 5,
        "referred_phone": "+86 139 0000 1111",
    }
    draft = parse_event("r", event, store_zones=ZONES)
    assert draft.referred is not None and not draft.referred.strong
    with pytest.raises(ValidationError, match="must be one of"):
        parse_event("r", {**event, "type": "like"}, store_zones=ZONES)
    with pytest.raises(ValidationError, match="at most 5"):
        parse_event("r", {**event, "rating": 6}, store_zones=ZONES)


def test_a_consent_must_name_the_member_by_a_strong_identifier() -> None:
    consent = {
        "source": "app",
        "purpose": "marketing",
        "granted": True,
        "at": "2026-03-02T10:00:00+08:00",
        "notice_version": "2025-01",
        "customer": {"app_user_id": "U123"},
    }
    assert parse_consent("r", consent).granted is True
    weak = {**consent, "customer": {"phone": "13812345678", "phone_verified": False}}
    with pytest.raises(ValidationError, match="strong identifier"):
        parse_consent("r", weak)
    with pytest.raises(ValidationError, match="true or false"):
        parse_consent("r", {**consent, "granted": "yes"})
    with pytest.raises(ValidationError, match="must be one of"):
        parse_consent("r", {**consent, "purpose": "everything"})


@pytest.mark.parametrize(
    ("customer", "field", "reason"),
    [
        ({"birthday": "1899-12-31"}, "customer.birthday", "outside 1900"),
        ({"birthday": "31/12/1990"}, "customer.birthday", "ISO date"),
        ({"gender": "unknown"}, "customer.gender", "male, female or other"),
        ({"phone_verified": "yes", "phone": "13812345678"}, "phone_verified", "true or false"),
    ],
)
def test_customer_fields_are_checked(customer: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_customer("r", customer)
    assert refused.value.field == field and reason in refused.value.reason


def test_customer_gender_is_case_folded_and_identifiers_come_in_kind_order() -> None:
    customer = parse_customer(
        "r", {"gender": "Female", "phone": "13812345678", "card_no": "hd-1", "device_id": "d-1"}
    )
    assert customer.gender == "female"
    assert [s.kind for s in customer.identifiers] == ["card_no", "phone", "device_id"]
    assert [s.strong for s in customer.identifiers] == [True, False, False]
