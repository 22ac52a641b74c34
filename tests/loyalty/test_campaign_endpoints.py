"""Campaign and coupon routes: who may call them, a member's own coupons, coupons in the
quote, a clear 409 on a used coupon, and Idempotency-Key replays kept for 24 hours."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from tests.loyalty.conftest import dinner, load, member_of

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.loyalty import idempotency
from memberops.loyalty.campaign_models import IdempotencyKey
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

ROLES = ("admin", "manager", "pos", "staff", "marketer", "analyst")
Api = tuple[TestClient, dict[str, str], str, str, FixedClock, Runtime]


@pytest.fixture
def api(seeded: Runtime) -> Iterator[Api]:
    with use_clock(FixedClock(datetime(2026, 3, 5, 4, tzinfo=UTC))) as clock:
        assert isinstance(clock, FixedClock)
        load(seeded, dinner("1", cents=30000), dinner("2", cents=1000, phone="13800000002"))
        with seeded.sessions() as session:
            m, other = member_of(session, "1"), member_of(session, "2")
        keys: dict[str, str] = {}
        with transaction(seeded.sessions) as session:
            for role in ROLES:
                keys[role] = create_api_key(session, name=role, role=role)[1]
            keys["member"] = create_api_key(session, name="me", role="member", member_id=m)[1]
        with TestClient(create_app(seeded, rate_limits=None)) as client:
            yield client, keys, m, other, clock, seeded


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


CAMPAIGN = {
    "code": "DOUBLE",
    "name": "Double points",
    "valid_from": "2026-03-01",
    "valid_to": "2026-03-31",
    "multiplier_pct": 200,
    "min_spend_cents": 5000,
}
COUPON = {
    "code": "FIVE",
    "name": "5 yuan off",
    "kind": "fixed",
    "value": 500,
    "valid_from": "2026-03-01",
    "valid_to": "2026-03-31T22:00",
}


@pytest.mark.parametrize("role", [*ROLES, "member"])
def test_who_may_create_and_read_campaigns(api: Api, role: str) -> None:
    client, keys, *_ = api
    created = client.post("/v1/campaigns", json=CAMPAIGN, headers=auth(keys[role]))
    assert created.status_code == (201 if role == "admin" else 403), created.text
    if role != "admin":
        client.post("/v1/campaigns", json=CAMPAIGN, headers=auth(keys["admin"]))
    listed = client.get("/v1/campaigns", headers=auth(keys[role]))
    shown = client.get("/v1/campaigns/DOUBLE", headers=auth(keys[role]))
    may_read = role in ("admin", "manager", "marketer")
    assert listed.status_code == shown.status_code == (200 if may_read else 403)
    if may_read:
        assert listed.json()[0]["valid_to_local"] == "2026-04-01T00:00:00+08:00"
        assert shown.json()["history"][0]["action"] == "create"
    ended = client.post("/v1/campaigns/DOUBLE/end", headers=auth(keys[role]))
    assert ended.status_code == (200 if role == "admin" else 403)


def test_bad_campaign_input_names_the_field(api: Api) -> None:
    client, keys, *_ = api
    bad = client.post(
        "/v1/campaigns", json={**CAMPAIGN, "valid_to": "2026-02-01"}, headers=auth(keys["admin"])
    )
    assert bad.status_code == 422 and "valid_to" in bad.text
    both = client.post(
        "/v1/campaigns", json={**CAMPAIGN, "fixed_points": 5}, headers=auth(keys["admin"])
    )
    assert both.status_code == 422 and "bonus" in both.text
    extra = client.post("/v1/campaigns", json={**CAMPAIGN, "x": 1}, headers=auth(keys["admin"]))
    assert extra.status_code == 422
    assert client.post("/v1/campaigns", json=CAMPAIGN, headers=auth(keys["admin"])).is_success
    again = client.post("/v1/campaigns", json=CAMPAIGN, headers=auth(keys["admin"]))
    assert again.status_code == 409
    assert client.get("/v1/campaigns/NOPE", headers=auth(keys["admin"])).status_code == 404


def test_coupon_lifecycle_over_http(api: Api) -> None:
    client, keys, m, other, _, _ = api
    assert (
        client.post("/v1/coupons", json=COUPON, headers=auth(keys["marketer"])).status_code == 403
    )
    defined = client.post("/v1/coupons", json=COUPON, headers=auth(keys["admin"]))
    assert defined.status_code == 201, defined.text
    assert defined.json()["valid_to_local"] == "2026-03-31T22:00:00+08:00"
    issue = client.post(
        "/v1/coupons/FIVE/issue", json={"member_ids": [m]}, headers=auth(keys["marketer"])
    )
    assert issue.status_code == 200 and issue.json()["issued"] == 1
    (code,) = issue.json()["codes"]
    assert (
        client.post(
            "/v1/coupons/FIVE/issue", json={"member_ids": [m]}, headers=auth(keys["pos"])
        ).status_code
        == 403
    )
    for role, status in (("manager", 200), ("marketer", 200), ("pos", 403), ("member", 403)):
        assert client.get("/v1/coupons", headers=auth(keys[role])).status_code == status
        assert client.get("/v1/coupons/FIVE", headers=auth(keys[role])).status_code == status
    mine = client.get(f"/v1/members/{m}/coupons", headers=auth(keys["member"]))
    assert mine.status_code == 200 and mine.json()[0]["code"] == code
    theirs = client.get(f"/v1/members/{other}/coupons", headers=auth(keys["member"]))
    assert theirs.status_code == 404
    assert client.get(f"/v1/members/{m}/coupons", headers=auth(keys["analyst"])).status_code == 403

    body = {"member_id": m, "items": [{"sku": "BR001", "quantity": 1}], "coupons": [code]}
    quote = client.post("/v1/quote", json=body, headers=auth(keys["pos"])).json()
    (line,) = [ln for ln in quote["lines"] if ln["kind"] == "coupon"]
    assert line["applied"] and line["amount_cents"] == -500
    assert quote["total_cents"] == quote["public_cents"] - 500

    redeem = {"code": code, "member_id": m, "source_system": "pos", "reference": "T1"}
    first = client.post("/v1/coupons/redeem", json=redeem, headers=auth(keys["pos"]))
    assert first.status_code == 200 and first.json()["status"] == "redeemed"
    second = client.post(
        "/v1/coupons/redeem", json={**redeem, "reference": "T2"}, headers=auth(keys["pos"])
    )
    assert second.status_code == 409 and "already redeemed" in second.text
    staff = client.post("/v1/coupons/redeem", json=redeem, headers=auth(keys["staff"]))
    assert staff.status_code == 403
    shown = client.get("/v1/coupons/FIVE", headers=auth(keys["manager"])).json()
    assert (shown["issued"], shown["redeemed"]) == (1, 1)


def test_idempotency_key_replays_the_first_answer_for_24_hours(api: Api) -> None:
    client, keys, m, _, clock, runtime = api
    body = {"member_id": m, "points": 10, "source_system": "pos", "redemption_id": "K1"}
    headers = auth(keys["pos"], **{"Idempotency-Key": "key-1"})
    first = client.post("/v1/redemptions", json=body, headers=headers)
    assert first.status_code == 200, first.text
    clock.advance(timedelta(hours=23, minutes=59))
    replay = client.post("/v1/redemptions", json=body, headers=headers)
    assert replay.json() == first.json()  # the first answer, unchanged (replayed: false)
    other_body = {**body, "redemption_id": "K2"}
    reused = client.post("/v1/redemptions", json=other_body, headers=headers)
    assert reused.status_code == 409 and "Idempotency-Key" in reused.text
    clock.advance(timedelta(minutes=1))  # 24 h after first use: the key is free again
    fresh = client.post("/v1/redemptions", json=other_body, headers=headers)
    assert fresh.status_code == 200 and fresh.json()["id"] != first.json()["id"]
    # The business document stays de-duplicated forever, whatever the key.
    old_doc = client.post(
        "/v1/redemptions", json=body, headers=auth(keys["pos"], **{"Idempotency-Key": "key-2"})
    )
    assert old_doc.json()["id"] == first.json()["id"] and old_doc.json()["replayed"] is True
    # Keys are per caller: the admin's "key-1" is another key.
    admin = client.post(
        "/v1/redemptions",
        json={**body, "redemption_id": "K3"},
        headers=auth(keys["admin"], **{"Idempotency-Key": "key-1"}),
    )
    assert admin.status_code == 200
    clock.advance(timedelta(hours=25))
    with transaction(runtime.sessions) as session:
        assert idempotency.purge_expired_keys(session, now=clock.now()) == 3
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_points_history_over_http_says_which_campaigns_applied(api: Api) -> None:
    client, keys, m, _, _clock, runtime = api
    client.post("/v1/campaigns", json=CAMPAIGN, headers=auth(keys["admin"]))
    load(runtime, dinner("3", cents=4000, at="2026-03-04T19:00:00+08:00"))
    load(runtime, dinner("4", cents=6000, at="2026-03-04T20:00:00+08:00"))
    points = client.get(f"/v1/members/{m}/points", headers=auth(keys["member"])).json()
    reasons = sorted((c["applied"], c["reason"]) for c in points["campaigns"])
    assert reasons == [(False, "eligible spend 40.00 below the minimum 50.00"), (True, "applied")]
