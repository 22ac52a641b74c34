"""API keys over HTTP and the CLI: create (secret shown once), list, revoke, expiry and
last-used time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from builders import Api
from memberops.db import utcnow


def test_admin_creates_lists_and_revokes_a_key(api: Api) -> None:
    admin = api.auth("admin")
    created = api.client.post(
        "/v1/apikeys", json={"name": "till 3", "role": "pos", "store_code": "S001"}, headers=admin
    )
    assert created.status_code == 201, created.text
    key = created.json()
    secret = key["secret"]
    assert secret.startswith("mo_") and key["state"] == "active"
    assert key["last_used_at"] is None
    # The secret is in the creation answer only.
    listed = api.client.get("/v1/apikeys", headers=admin)
    assert listed.status_code == 200
    assert secret not in listed.text
    (row,) = [k for k in listed.json() if k["id"] == key["id"]]
    assert row["last_used_at"] is None
    # Using the key records when it was last used.
    used = api.client.get("/v1/members", params={"query": "13900000000"}, headers=api.auth(secret))
    assert used.status_code == 200
    # Noted off the request's path: wait (bounded) for the write.
    deadline = time.monotonic() + 5
    while True:
        (row,) = [
            k for k in api.client.get("/v1/apikeys", headers=admin).json() if k["id"] == key["id"]
        ]
        if row["last_used_at"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert row["last_used_at"] is not None
    # Revoked: refused at once, gone from the default listing, shown with --all.
    revoked = api.client.delete(f"/v1/apikeys/{key['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    again = api.client.get("/v1/members", params={"query": "13900000000"}, headers=api.auth(secret))
    assert again.status_code == 401
    ids = [k["id"] for k in api.client.get("/v1/apikeys", headers=admin).json()]
    assert key["id"] not in ids
    every = api.client.get("/v1/apikeys", params={"include_revoked": True}, headers=admin).json()
    assert [k["state"] for k in every if k["id"] == key["id"]] == ["revoked"]
    assert api.client.delete(f"/v1/apikeys/{key['id']}", headers=admin).status_code == 200


def test_an_expired_key_is_refused(api: Api) -> None:
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    created = api.client.post(
        "/v1/apikeys",
        json={"name": "temp", "role": "staff", "expires_at": past},
        headers=api.auth("admin"),
    )
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "expired"
    response = api.client.get(
        "/v1/members", params={"query": "13900000000"}, headers=api.auth(created.json()["secret"])
    )
    assert response.status_code == 401


def test_only_admins_manage_keys(api: Api) -> None:
    for role in ("staff", "pos", "marketer", "analyst"):
        assert api.client.get("/v1/apikeys", headers=api.auth(role)).status_code == 403
    body = {"name": "x", "role": "admin"}
    assert api.client.post("/v1/apikeys", json=body, headers=api.auth("staff")).status_code == 403
    assert (
        api.client.delete("/v1/apikeys/13912345678", headers=api.auth("admin")).status_code == 422
    )
    unknown = api.client.delete(f"/v1/apikeys/{'0' * 26}", headers=api.auth("admin"))
    assert unknown.status_code == 404


def test_cli_lists_and_revokes_keys(cli: Callable[..., Any], runtime: Any) -> None:
    created = cli(
        "apikeys", "create", "--name", "desk", "--role", "staff", "--expires-days", "30", "--json"
    )
    key = json.loads(created.stdout)
    listed = cli("apikeys", "list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    (row,) = [r for r in rows if r["id"] == key["id"]]
    assert row["expires_at"] is not None and row["state"] == "active"
    assert key["secret"] not in listed.stdout
    revoked = cli("apikeys", "revoke", key["id"])
    assert revoked.exit_code == 0
    after = json.loads(cli("apikeys", "list", "--all", "--json").stdout)
    assert [r["state"] for r in after if r["id"] == key["id"]] == ["revoked"]
    missing = cli("apikeys", "revoke", "0" * 26)
    assert missing.exit_code != 0
