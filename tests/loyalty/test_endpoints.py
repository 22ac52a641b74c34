"""Loyalty routes: roles, own-member scope, Idempotency-Key retries, the quote, policy."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from tests.loyalty.conftest import dinner, load, member_of

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.loyalty.rules import DEFAULT_POLICY_TOML
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient


@pytest.fixture
def api(seeded: Runtime) -> Iterator[tuple[TestClient, dict[str, str], str, str]]:
    with use_clock(FixedClock(datetime(2026, 3, 5, 4, tzinfo=UTC))):
        load(seeded, dinner("1", cents=30000), dinner("2", cents=1000, phone="13800000002"))
        with seeded.sessions() as session:
            m, other = member_of(session, "1"), member_of(session, "2")
        keys: dict[str, str] = {}
        with transaction(seeded.sessions) as session:
            for role in ("admin", "pos", "staff", "marketer", "analyst"):
                keys[role] = create_api_key(session, name=role, role=role)[1]
            keys["member"] = create_api_key(session, name="me", role="member", member_id=m)[1]
        with TestClient(create_app(seeded)) as client:
            yield client, keys, m, other


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("pos", 200),
        ("staff", 200),
        ("member", 200),
        ("marketer", 403),
        ("analyst", 403),
    ],
)
def test_who_may_read_a_members_tier_and_points(
    api: tuple[TestClient, dict[str, str], str, str], role: str, status: int
) -> None:
    client, keys, m, _ = api
    for what in ("tier", "points"):
        response = client.get(f"/v1/members/{m}/{what}", headers=auth(keys[role]))
        assert response.status_code == status, response.text
    tier = client.get(f"/v1/members/{m}/tier", headers=auth(keys["admin"])).json()
    assert tier["tier"] == "red" and tier["to_reach_next"]["tier"] == "silver"


def test_a_member_key_sees_only_its_own_member(
    api: tuple[TestClient, dict[str, str], str, str],
) -> None:
    client, keys, _, other = api
    response = client.get(f"/v1/members/{other}/points", headers=auth(keys["member"]))
    assert response.status_code == 404


def test_redemption_retried_with_the_same_document_is_stored_once(
    api: tuple[TestClient, dict[str, str], str, str],
) -> None:
    client, keys, m, _ = api
    body = {"member_id": m, "points": 120, "source_system": "pos", "redemption_id": "T1"}
    first = client.post(
        "/v1/redemptions", json=body, headers=auth(keys["pos"], **{"Idempotency-Key": "a"})
    )
    # A till retry with a fresh request id: the business document decides.
    again = client.post(
        "/v1/redemptions", json=body, headers=auth(keys["pos"], **{"Idempotency-Key": "b"})
    )
    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["id"] == again.json()["id"] and again.json()["replayed"] is True
    points = client.get(f"/v1/members/{m}/points", headers=auth(keys["pos"])).json()
    assert points["balance"] == 180
    too_much = dict(body, redemption_id="T2", points=181)
    response = client.post(
        "/v1/redemptions", json=too_much, headers=auth(keys["pos"], **{"Idempotency-Key": "c"})
    )
    assert response.status_code == 409
    staff = client.post(
        "/v1/redemptions",
        json=dict(body, redemption_id="T3"),
        headers=auth(keys["staff"], **{"Idempotency-Key": "d"}),
    )
    assert staff.status_code == 403
    no_key = client.post(
        "/v1/redemptions", json=dict(body, redemption_id="T4"), headers=auth(keys["pos"])
    )
    assert no_key.status_code == 422
    cancel = client.post("/v1/redemptions/pos/T1/cancel", headers=auth(keys["pos"]))
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"


def test_privileged_fields_are_refused(api: tuple[TestClient, dict[str, str], str, str]) -> None:
    client, keys, m, _ = api
    body = {
        "member_id": m,
        "points": 1,
        "source_system": "pos",
        "redemption_id": "T9",
        "balance": 10**6,
    }
    response = client.post(
        "/v1/redemptions", json=body, headers=auth(keys["pos"], **{"Idempotency-Key": "x"})
    )
    assert response.status_code == 422


def test_quote_is_itemised_and_never_above_the_public_price(
    api: tuple[TestClient, dict[str, str], str, str],
) -> None:
    client, keys, m, _ = api
    body = {"member_id": m, "items": [{"sku": "BR001", "quantity": 2}], "coupons": ["SUMMER"]}
    response = client.post("/v1/quote", json=body, headers=auth(keys["pos"]))
    assert response.status_code == 200, response.text
    quote = response.json()
    assert quote["public_cents"] == 13600 and quote["total_cents"] <= 13600
    assert {ln["kind"] for ln in quote["lines"]} == {"item", "tier_discount", "coupon"}
    assert all(ln["reason"] for ln in quote["lines"])
    assert client.post("/v1/quote", json=body, headers=auth(keys["staff"])).status_code == 403


def test_policy_endpoints_are_for_admins(api: tuple[TestClient, dict[str, str], str, str]) -> None:
    client, keys, _, _ = api
    bad = client.post(
        "/v1/loyalty/policy/validate",
        json={"document": DEFAULT_POLICY_TOML.replace('period = "quarter"', 'period = "week"')},
        headers=auth(keys["admin"]),
    )
    assert bad.status_code == 422 and "line 7" in bad.text
    ok = client.post(
        "/v1/loyalty/policy", json={"document": DEFAULT_POLICY_TOML}, headers=auth(keys["admin"])
    )
    assert ok.status_code == 200 and ok.json()["status"] == "active"
    assert client.get("/v1/loyalty/policy", headers=auth(keys["pos"])).status_code == 403
    sim = client.post(
        "/v1/loyalty/simulate", json={"document": DEFAULT_POLICY_TOML}, headers=auth(keys["admin"])
    )
    assert sim.status_code == 200 and sim.json()["diff"] == []
