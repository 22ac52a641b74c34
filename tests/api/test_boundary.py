"""Input at the boundary: path ids by format, no control characters in any text field,
a size cap on every body, unknown fields refused, lists paginated. On SQLite and
PostgreSQL (PostgreSQL used to answer 500 to a NUL byte)."""

from __future__ import annotations

import pytest

from builders import STORE, Api, new_phone, order
from memberops.db import transaction
from memberops.labels.models import Label


def _member(api: Api) -> str:
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).json()["members_created"] == 1
    return api.member_id_for(phone)


def _label_count(api: Api, member_id: str) -> int:
    with transaction(api.runtime.sessions) as session:
        return session.query(Label).filter(Label.member_id == member_id).count()


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\x7f"])
def test_control_characters_in_a_label_reason_are_422(api: Api, bad: str) -> None:
    member_id = _member(api)
    body = {"category": "service_need", "text": "high chair", "reason": f"asked{bad}"}
    response = api.client.post(
        f"/v1/members/{member_id}/labels", json=body, headers=api.auth("admin")
    )
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == "reason"
    assert _label_count(api, member_id) == 0


def test_nul_in_a_consent_notice_version_is_422(api: Api) -> None:
    member_id = _member(api)
    own = api.auth(api.key("member", member_id=member_id))
    body = {"purpose": "marketing", "granted": True, "channel": "app", "notice_version": "v\x003"}
    response = api.client.post(f"/v1/members/{member_id}/consents", json=body, headers=own)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "notice_version"


def test_nul_in_an_order_field_is_422(api: Api) -> None:
    phone = new_phone()
    sale = order(phone=phone)
    sale["customer"]["name"] = "Li\x00Lei"
    response = api.post_orders({"orders": [sale]})
    assert response.status_code == 422, response.text


def test_tabs_and_newlines_stay_allowed_in_notes(api: Api) -> None:
    member_id = _member(api)
    body = {"category": "service_need", "text": "high chair", "reason": "asked\tat the\ntable"}
    response = api.client.post(
        f"/v1/members/{member_id}/labels", json=body, headers=api.auth("admin")
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("field", ["source", "status", "sensitive"])
def test_label_body_refuses_unknown_fields(api: Api, field: str) -> None:
    member_id = _member(api)
    body = {"category": "service_need", "text": "high chair", "reason": "asked", field: "x"}
    response = api.client.post(
        f"/v1/members/{member_id}/labels", json=body, headers=api.auth("admin")
    )
    assert response.status_code == 422
    assert _label_count(api, member_id) == 0


def test_label_paths_take_opaque_ids_only(api: Api) -> None:
    member_id = _member(api)
    for path in (
        "/v1/members/13912345678/labels",
        f"/v1/members/{member_id}/labels/13912345678",
        "/v1/members/" + "a" * 300 + "/labels",
    ):
        method = "DELETE" if path.count("/labels/") else "GET"
        response = api.client.request(method, path, headers=api.auth("admin"))
        assert response.status_code == 422, path
        assert "13912345678" not in response.text


def test_every_body_is_capped(api: Api) -> None:
    member_id = _member(api)
    huge = {"category": "service_need", "text": "x" * 200_000, "reason": "asked"}
    response = api.client.post(
        f"/v1/members/{member_id}/labels", json=huge, headers=api.auth("admin")
    )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert _label_count(api, member_id) == 0
    # Batches keep their own, larger cap.
    assert (
        api.post_orders({"orders": [order(phone=new_phone(), store_code=STORE)]}).status_code == 200
    )


def test_label_list_is_paginated(api: Api) -> None:
    member_id = _member(api)
    for text in ("high chair", "quiet corner", "window seat"):
        body = {"category": "service_need", "text": text, "reason": "asked"}
        created = api.client.post(
            f"/v1/members/{member_id}/labels", json=body, headers=api.auth("admin")
        )
        assert created.status_code == 201, created.text
    url = f"/v1/members/{member_id}/labels"
    first = api.client.get(url, params={"limit": 2}, headers=api.auth("admin")).json()
    rest = api.client.get(url, params={"limit": 2, "offset": 2}, headers=api.auth("admin")).json()
    assert [x["text"] for x in first + rest] == ["high chair", "quiet corner", "window seat"]
    too_many = api.client.get(url, params={"limit": 10_000}, headers=api.auth("admin"))
    assert too_many.status_code == 422
