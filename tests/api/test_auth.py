"""Keys and roles: 401 without a valid key, 403 (audited) for the wrong role."""

from __future__ import annotations

from builders import Api


def test_no_key_is_401(api: Api) -> None:
    response = api.client.get("/v1/identity/report")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_key_is_401(api: Api) -> None:
    response = api.client.get(
        "/v1/identity/report", headers={"Authorization": "Bearer mo_not-a-real-key"}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "unauthenticated", "message": "the API key is not valid"}


def test_key_in_x_api_key_header_works(api: Api) -> None:
    secret = api.key("analyst")
    response = api.client.get("/v1/identity/report", headers={"X-API-Key": secret})
    assert response.status_code == 200


def test_wrong_role_is_403_and_the_denial_is_audited(api: Api) -> None:
    secret = api.key("marketer")
    response = api.client.get("/v1/audit/verify", headers=api.auth(secret))
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    denials = api.audit_entries(action="access.denied", secret=secret)
    assert len(denials) == 1
    assert denials[0].outcome == "denied"
    assert "/v1/audit/verify" in (denials[0].reason or "")


def test_pos_key_cannot_undo_merges(api: Api) -> None:
    secret = api.key("pos", store_code="S001")
    response = api.client.post(
        "/v1/identity/merges/0123456789abcdef0123456789/undo", headers=api.auth(secret)
    )
    assert response.status_code == 403
    assert api.audit_entries(action="access.denied", secret=secret)


def test_audit_chain_verifies_for_admin(api: Api) -> None:
    response = api.client.get("/v1/audit/verify", headers=api.auth("admin"))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["problems"] == []
