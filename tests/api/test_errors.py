"""Every failure answers in the one error shape, and says nothing it should not."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from builders import Api, TestClient, order
from memberops.api.app import create_app


def _assert_error_shape(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) <= {"error", "message", "details"}
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    for detail in body.get("details", []):
        assert set(detail) == {"record", "field", "reason"}


def test_one_error_shape_for_every_status(api: Api) -> None:
    client = api.client
    admin = api.auth("admin")
    _assert_error_shape(client.get("/v1/audit/verify"), 401)
    _assert_error_shape(client.get("/v1/audit/verify", headers=api.auth("staff")), 403)
    _assert_error_shape(client.get("/v1/members/0123456789abcdef0123456789", headers=admin), 404)
    _assert_error_shape(client.get("/v1/no-such-route", headers=admin), 404)
    _assert_error_shape(client.put("/v1/orders", headers=admin), 405)
    original = order()
    api.post_orders(original)
    _assert_error_shape(api.post_orders({**original, "total_cents": 0, "lines": []}), 422)
    conflict = {**original, "party_size": 4}
    _assert_error_shape(api.post_orders(conflict), 409)
    _assert_error_shape(
        client.post(
            "/v1/members/0123456789abcdef0123456789/consents",
            content=b"{not json",
            headers={**admin, "Content-Type": "application/json"},
        ),
        400,
    )
    _assert_error_shape(
        client.post(
            "/v1/members/0123456789abcdef0123456789/consents", json={"x": 1}, headers=admin
        ),
        422,
    )


def test_request_validation_names_the_field_but_never_the_value(api: Api) -> None:
    secret_value = "alice@example.com"
    response = api.client.post(
        "/v1/members/0123456789abcdef0123456789/consents",
        json={
            "purpose": "marketing",
            "granted": True,
            "channel": secret_value,
            "notice_version": "v",
        },
        headers=api.auth("admin"),
    )
    _assert_error_shape(response, 422)
    assert secret_value not in response.text
    (detail,) = response.json()["details"]
    assert (detail["record"], detail["field"]) == ("body", "channel")
    assert "[a-z_]+" in detail["reason"]  # what a channel name may hold, not what was sent


def test_unexpected_failure_is_a_bare_500(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(api.runtime)
    phone = "".join(["139", "1234", "5678"])

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError(f"failed for {phone}")

    with TestClient(app) as client:
        response = client.get("/v1/boom")
    _assert_error_shape(response, 500)
    assert response.json() == {"error": "internal", "message": "internal error"}
    assert "13912345678" not in caplog.text
    assert "RuntimeError" in caplog.text
    assert any(r.levelno == logging.ERROR for r in caplog.records)
