"""Service-desk fixtures: the API over the seeded database, keys per role, a member."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import pytest

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.db import transaction
from memberops.identity.service import find_member_ids
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

Headers = dict[str, str]


@pytest.fixture
def client(seeded: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(seeded), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture
def key(seeded: Runtime) -> Callable[..., Headers]:
    """`key("staff", store="BJ001")`: headers carrying a new key of that role."""

    def make(role: str, *, store: str | None = None, member_id: str | None = None) -> Headers:
        with transaction(seeded.sessions) as session:
            _row, secret = create_api_key(
                session,
                name=f"{role} key",
                role=role,
                store_code=store,
                staff_id=f"{role}-1" if role in ("staff", "manager") else None,
                member_id=member_id,
            )
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def member(
    seeded: Runtime,
    client: TestClient,
    key: Callable[..., Headers],
    order: Callable[..., dict[str, object]],
) -> str:
    """A member created by one order at BJ001 (phone 13812345678)."""
    response = client.post("/v1/orders", json=order("m-1"), headers=key("admin"))
    assert response.status_code == 200, response.text
    with transaction(seeded.sessions) as session:
        (member_id,) = find_member_ids(session, seeded.keyring, "13812345678")
    return member_id
