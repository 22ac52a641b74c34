"""Rate limits per key and route, misses weighed heavily, in process or shared in Redis."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from builders import Api, new_phone, order
from memberops.api.app import create_app
from memberops.api.ratelimit import LOOKUP_ROUTE, RateLimits, RequestLimiter

REDIS_URL = "redis://127.0.0.1:6379/0"
SMALL = RateLimits(
    default="4/minute",
    routes={LOOKUP_ROUTE: "3/minute"},
    lookup_misses="2/minute",
    unauthenticated="3/minute",
)


def _limiter(backend: str) -> RequestLimiter:
    if backend == "memory":
        return RequestLimiter(SMALL)
    # A prefix of its own: counters of earlier runs in the same minute do not leak in.
    return RequestLimiter(SMALL, storage_url=REDIS_URL, key_prefix=secrets.token_hex(6))


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, api: Api) -> Iterator[Api]:
    """The module's database behind an app with small limits, in memory or in Redis."""
    app = create_app(api.runtime)
    app.state.limiter = _limiter(str(request.param))
    with TestClient(app) as client:
        yield Api(runtime=api.runtime, client=client)


def _lookup(api: Api, secret: str, query: str) -> int:
    response = api.client.get("/v1/members", params={"query": query}, headers=api.auth(secret))
    return response.status_code


def test_lookups_beyond_the_key_limit_get_429_with_retry_after(limited: Api, api: Api) -> None:
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).status_code == 200
    staff = limited.key("staff")
    assert [_lookup(limited, staff, phone) for _ in range(3)] == [200, 200, 200]
    refused = limited.client.get(
        "/v1/members", params={"query": phone}, headers=limited.auth(staff)
    )
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Per key: another desk is not affected. Per route: the same key reads consents.
    assert _lookup(limited, limited.key("staff"), phone) == 200
    member_id = api.member_id_for(phone)
    consents = limited.client.get(f"/v1/members/{member_id}/consents", headers=limited.auth(staff))
    assert consents.status_code == 200


def test_lookups_matching_nobody_run_out_first(limited: Api) -> None:
    staff = limited.key("staff")
    assert [_lookup(limited, staff, new_phone()) for _ in range(2)] == [200, 200]
    # Two misses used the miss budget: the third lookup is refused, found or not.
    assert _lookup(limited, staff, new_phone()) == 429


def test_guessing_keys_is_limited_per_address(limited: Api) -> None:
    bad = "mo_" + secrets.token_urlsafe(32)
    statuses = [_lookup(limited, bad, "13800000000") for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_redis_counts_are_shared_by_every_worker(api: Api) -> None:
    prefix = secrets.token_hex(6)
    workers = []
    for _ in range(2):
        app = create_app(api.runtime)
        app.state.limiter = RequestLimiter(SMALL, storage_url=REDIS_URL, key_prefix=prefix)
        workers.append(TestClient(app))
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).status_code == 200
    staff = api.key("staff")
    headers = api.auth(staff)
    statuses = [
        workers[n % 2].get("/v1/members", params={"query": phone}, headers=headers).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_default_limits_stop_a_key_doing_hundreds_of_lookups_a_second(api: Api) -> None:
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).status_code == 200
    with TestClient(create_app(api.runtime)) as client:
        app_api = Api(runtime=api.runtime, client=client)
        staff = app_api.key("staff")
        statuses = [_lookup(app_api, staff, phone) for _ in range(20)]
    assert statuses[0] == 200
    assert 429 in statuses
