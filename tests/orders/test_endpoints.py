"""POST /v1/orders: all or nothing, idempotent, store-scoped, and silent about values."""

from __future__ import annotations

from typing import Any

import pytest

from builders import OTHER_STORE, STORE, Api, new_order_id, new_phone, order


def test_single_order_is_stored(api: Api) -> None:
    response = api.post_orders(order(phone=new_phone()), as_="pos")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["records"] == 1
    assert report["orders_created"] == 1
    assert report["order_lines_created"] == 1
    assert report["members_created"] == 1
    assert report["errors"] == []


def test_batch_is_stored_whole(api: Api) -> None:
    body = {"orders": [order(), order(phone=new_phone()), order(sku="TEA-JASMINE", quantity=3)]}
    report = api.post_orders(body).json()
    assert report["records"] == 3
    assert report["orders_created"] == 3
    assert report["unattached_orders"] == 2  # the two orders without a customer


def test_replayed_request_stores_nothing_new(api: Api) -> None:
    body = {"orders": [order(), order()]}
    first = api.post_orders(body)
    again = api.post_orders(body)
    assert first.status_code == again.status_code == 200
    assert first.json()["orders_created"] == 2
    assert again.json()["orders_created"] == 0
    assert again.json()["duplicates"] == 2


def test_same_order_id_with_other_content_is_409(api: Api) -> None:
    original = order()
    assert api.post_orders(original).status_code == 200
    changed = {**original, "lines": [{**original["lines"][0], "quantity": 3}], "total_cents": 20400}
    response = api.post_orders(changed)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert body["details"][0]["field"] == "source_order_id"
    assert body["details"][0]["reason"].startswith("conflict")


def changed_copy(original: dict[str, Any]) -> dict[str, Any]:
    """The same order id with other content that is valid on its own (the total adds up)."""
    line = original["lines"][0]
    changed_line = {**line, "quantity": line["quantity"] + 1}
    total = changed_line["quantity"] * changed_line["unit_price_cents"]
    return {**original, "lines": [changed_line], "total_cents": total}


def test_changed_replay_beside_a_fresh_order_is_409_and_stores_neither(api: Api) -> None:
    original = order()
    assert api.post_orders(original).status_code == 200
    fresh = order()
    response = api.post_orders({"orders": [fresh, changed_copy(original)]})
    assert response.status_code == 409, response.text
    (detail,) = response.json()["details"]
    assert (detail["record"], detail["field"]) == ("request index 1", "source_order_id")
    replay = api.post_orders(fresh)
    assert replay.json()["orders_created"] == 1  # the fresh order was not stored before


def test_conflict_among_invalid_records_is_422_and_stores_nothing(api: Api) -> None:
    original = order()
    api.post_orders(original)
    fresh = order()
    invalid = order(store_code="S999")
    response = api.post_orders({"orders": [fresh, changed_copy(original), invalid]})
    assert response.status_code == 422, response.text
    fields = {(d["record"], d["field"]) for d in response.json()["details"]}
    assert ("request index 2", "store_code") in fields
    replay = api.post_orders(fresh)
    assert replay.json()["orders_created"] == 1  # the valid record was not stored before


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"store_code": "S999"}, "store_code", "is not a known store"),
        (
            {"lines": [{"sku": "NO-SUCH-DISH", "quantity": 1, "unit_price_cents": 100}]},
            "lines[1].sku",
            "is not a known item",
        ),
        (
            {
                "lines": [{"sku": "HOTPOT-BEEF", "quantity": 0, "unit_price_cents": 6800}],
                "total_cents": 0,
            },
            "lines[1].quantity",
            "must be at least 1",
        ),
        ({"total_cents": 1}, "total_cents", "does not add up"),
    ],
    ids=["unknown-store", "unknown-sku", "quantity-0", "total-off"],
)
def test_bad_record_is_422_naming_request_index_and_field(
    api: Api, change: dict[str, Any], field: str, reason: str
) -> None:
    body = {"orders": [order(), order(), order(), order(**change)]}
    response = api.post_orders(body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["error"] == "invalid"
    (detail,) = error["details"]
    assert (detail["record"], detail["field"]) == ("request index 3", field)
    assert detail["reason"].startswith(reason)
    assert error["message"].startswith(f"request index 3, field {field}: {reason}")
    assert error["message"].endswith("nothing was stored")
    # All or nothing: the three good orders of the request were not stored either.
    assert api.post_orders(body["orders"][0]).json()["orders_created"] == 1


def test_malformed_phone_is_a_warning_without_repeating_it(api: Api) -> None:
    phone = "+86 139 1234 56789012"
    response = api.post_orders(order(phone=phone))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["orders_created"], body["warnings"]) == (1, 1)
    assert body["warning_details"][0]["field"] == "customer.phone"
    for spelling in (phone, "1234", "56789012"):
        assert spelling not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order(points_balance=100), "points_balance"),
        (order(member_id="0123456789abcdef0123456789"), "member_id"),
        (order(customer={"phone": "+86 139 0000 0000", "tier": "gold"}), "customer.tier"),
        ({"orders": [order()], "store_id": "x"}, "store_id"),
    ],
    ids=["points", "member-id", "customer-tier", "envelope"],
)
def test_unknown_fields_are_refused(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.post_orders(body)
    assert response.status_code == 422
    error = response.json()
    assert error["details"][0]["field"] == field
    assert error["details"][0]["reason"] == "is not a known field"
    assert "+86 139 0000 0000" not in response.text


@pytest.mark.parametrize("total", [True, 13600.0, "13600"], ids=["bool", "float", "text"])
def test_money_is_strict_integer_cents(api: Api, total: Any) -> None:
    response = api.post_orders(order(total_cents=total))
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "total_cents"


def test_more_than_1000_records_is_413(api: Api) -> None:
    body = {"orders": [order(source_order_id=f"{new_order_id()}-{i}") for i in range(1001)]}
    response = api.post_orders(body)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_empty_batch_is_422(api: Api) -> None:
    assert api.post_orders({"orders": []}).status_code == 422


def test_malformed_json_is_400(api: Api) -> None:
    response = api.client.post(
        "/v1/orders",
        content=b'{"source": "pos", ',
        headers={**api.auth("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "malformed_json",
        "message": "the request body is not valid JSON",
    }


def test_store_bound_pos_key_posts_only_its_store(api: Api) -> None:
    secret = api.key("pos", store_code=STORE)
    assert api.post_orders(order(store_code=STORE), as_=secret).status_code == 200
    response = api.post_orders(order(store_code=OTHER_STORE), as_=secret)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert len(api.audit_entries(action="access.denied", secret=secret)) == 1


def test_store_bound_pos_key_cannot_void_another_stores_order(api: Api) -> None:
    elsewhere = order(store_code=OTHER_STORE)
    api.post_orders(elsewhere)
    secret = api.key("pos", store_code=STORE)
    void = {
        "record_type": "void",
        "source": "pos",
        "source_void_id": f"void-{elsewhere['source_order_id']}",
        "source_order_id": elsewhere["source_order_id"],
        "voided_at": "2025-03-14T20:00:00+08:00",
    }
    assert api.post_orders(void, as_=secret).status_code == 403


def test_refund_and_consent_ride_in_the_same_body(api: Api) -> None:
    phone = new_phone()
    sale = order(phone=phone)
    refund = {
        "record_type": "refund",
        "source": "pos",
        "source_refund_id": f"rf-{sale['source_order_id']}",
        "source_order_id": sale["source_order_id"],
        "refunded_at": "2025-03-14T20:00:00+08:00",
        "amount_cents": 6800,
        "reason": "dish returned",
    }
    consent = {
        "record_type": "consent",
        "source": "pos",
        "purpose": "marketing",
        "granted": True,
        "at": "2025-03-14T19:06:00+08:00",
        "notice_version": "2025-01",
        "customer": {"phone": phone, "phone_verified": True},
    }
    secret = api.key("pos", store_code=STORE)
    response = api.post_orders({"orders": [sale, refund, consent]}, as_=secret)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["orders_created"], report["adjustments_created"]) == (1, 1)
    assert report["consents_recorded"] == 1
