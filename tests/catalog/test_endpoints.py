"""POST /v1/stores and POST /v1/catalog/items: admin only, validated, idempotent."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from builders import Api


def _store(code: str, **overrides: Any) -> dict[str, Any]:
    store = {
        "code": code,
        "name": "Hangzhou West Lake",
        "city": "Hangzhou",
        "region": "East",
        "timezone": "Asia/Shanghai",
    }
    store.update(overrides)
    return store


def _item(sku: str, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"sku": sku, "name": "Lotus root", "category": "vegetables"}
    item["price_cents"] = 1600
    item.update(overrides)
    return item


def test_admin_posts_stores_and_a_replay_changes_nothing(api: Api) -> None:
    body = {"stores": [_store(f"HZ{secrets.token_hex(3)}") for _ in range(3)]}
    first = api.client.post("/v1/stores", json=body, headers=api.auth("admin"))
    assert first.status_code == 200, first.text
    assert first.json() == {"records": 3, "created": 3, "updated": 0, "unchanged": 0}
    again = api.client.post("/v1/stores", json=body, headers=api.auth("admin"))
    assert again.json() == {"records": 3, "created": 0, "updated": 0, "unchanged": 3}


def test_admin_posts_catalog_items_and_updates_a_price(api: Api) -> None:
    sku = f"VG{secrets.token_hex(3)}"
    assert (
        api.client.post(
            "/v1/catalog/items", json={"items": [_item(sku)]}, headers=api.auth("admin")
        ).json()["created"]
        == 1
    )
    changed = api.client.post(
        "/v1/catalog/items",
        json={"items": [_item(sku, price_cents=1800)]},
        headers=api.auth("admin"),
    )
    assert changed.json() == {"records": 1, "created": 0, "updated": 1, "unchanged": 0}


@pytest.mark.parametrize("role", ["pos", "staff", "marketer"])
def test_other_roles_may_not_change_master_data(api: Api, role: str) -> None:
    response = api.client.post(
        "/v1/stores", json={"stores": [_store("XX001")]}, headers=api.auth(role)
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path,body,field,reason",
    [
        ("/v1/stores", {"stores": [_store("HZ1", timezone="Nowhere/City")]}, "timezone", "IANA"),
        ("/v1/stores", {"stores": [_store("HZ1", name="@SUM(A1)")]}, "name", "formula"),
        ("/v1/stores", {"stores": [_store("HZ1", city="a\u202eb")]}, "city", "control"),
        (
            "/v1/stores",
            {"stores": [_store("HZ1"), _store("HZ1", name="Other")]},
            "code",
            "twice",
        ),
        ("/v1/catalog/items", {"items": [_item("A1", price_cents=1.5)]}, "price_cents", ""),
        ("/v1/catalog/items", {"items": [_item("A 1")]}, "sku", "letters"),
        ("/v1/catalog/items", {"items": [_item("A1", colour="red")]}, "colour", "known"),
    ],
)
def test_bad_master_data_is_422_naming_record_and_field(
    api: Api, path: str, body: dict[str, Any], field: str, reason: str
) -> None:
    response = api.client.post(path, json=body, headers=api.auth("admin"))
    assert response.status_code == 422, response.text
    details = response.json()["details"]
    assert details[0]["field"].endswith(field)
    assert reason in details[0]["reason"]
    assert "SUM(A1)" not in response.text


def test_more_than_1000_stores_in_one_request_is_refused(api: Api) -> None:
    body = {"stores": [_store(f"ZZ{n:05d}") for n in range(1001)]}
    response = api.client.post("/v1/stores", json=body, headers=api.auth("admin"))
    assert response.status_code == 422
