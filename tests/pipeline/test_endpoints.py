"""The API server refreshes profiles in the background after orders are ingested."""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime

from tests.pipeline.conftest import order_record

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.db import transaction
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # Starlette's httpx2 hint
    from starlette.testclient import TestClient


def test_order_posted_to_the_api_reaches_the_profile_without_a_manual_run(
    seeded: Runtime,
) -> None:
    with transaction(seeded.sessions) as session:
        _key, secret = create_api_key(session, name="ops", role="admin")
    app = create_app(seeded, refresh_profiles=True)
    app.state.profile_refresher.delay = 0.1
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        at = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
        posted = client.post(
            "/v1/orders", json=[order_record("A1", phone="13812345678", at=at)], headers=auth
        )
        assert posted.status_code < 300, posted.text
        found = client.get("/v1/members", params={"query": "13812345678"}, headers=auth)
        member_id = found.json()["members"][0]["id"]
        deadline = time.monotonic() + 60
        transaction_group = None
        while time.monotonic() < deadline and transaction_group is None:
            time.sleep(0.2)
            profile = client.get(f"/v1/members/{member_id}", headers=auth).json()
            transaction_group = profile["transaction"]
        assert transaction_group is not None
        assert transaction_group["orders"] == 1
        assert app.state.profile_refresher.last_error is None


def test_the_profile_path_reads_the_same_profile_for_every_role(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session:
        keys = {
            role: create_api_key(session, name=role, role=role)[1]
            for role in ("admin", "marketer", "pos")
        }
    with TestClient(create_app(seeded)) as client:
        admin = {"Authorization": f"Bearer {keys['admin']}"}
        at = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
        posted = client.post(
            "/v1/orders", json=[order_record("B1", phone="13812345679", at=at)], headers=admin
        )
        assert posted.status_code < 300, posted.text
        found = client.get("/v1/members", params={"query": "13812345679"}, headers=admin)
        member_id = found.json()["members"][0]["id"]
        for role in ("admin", "marketer"):
            auth = {"Authorization": f"Bearer {keys[role]}"}
            plain = client.get(f"/v1/members/{member_id}", headers=auth)
            profile = client.get(f"/v1/members/{member_id}/profile", headers=auth)
            assert profile.status_code == 200, profile.text
            assert profile.json() == plain.json()
        assert "transaction" in profile.json()
        pos = {"Authorization": f"Bearer {keys['pos']}"}
        assert client.get(f"/v1/members/{member_id}/profile", headers=pos).status_code == 403
        missing = client.get("/v1/members/0123456789abcdef0123456789/profile", headers=admin)
        assert missing.status_code == 404
