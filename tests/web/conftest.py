"""Console fixtures: the app over the seeded database, a member with orders, and a
browser-like client that signs in through the real form."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.db import transaction
from memberops.identity.service import find_member_ids
from memberops.members.models import Member
from memberops.runtime import Runtime
from memberops.web.auth import create_staff_account
from web.helpers import PASSWORD, Console, TestClient


@pytest.fixture
def accounts(seeded: Runtime) -> dict[str, str]:
    """One console account per role: admin, manager (BJ001), staff (BJ001), analyst."""
    made = {"admin": None, "manager": "BJ001", "staff": "BJ001", "analyst": None}
    with transaction(seeded.sessions) as session:
        for role, store in made.items():
            create_staff_account(
                session, username=f"{role}1", password=PASSWORD, role=role, store_code=store
            )
    return {role: f"{role}1" for role in made}


@pytest.fixture
def console(seeded: Runtime, accounts: dict[str, str]) -> Iterator[Console]:
    with TestClient(create_app(seeded), base_url="http://127.0.0.1") as client:
        yield Console(client, seeded)


@pytest.fixture
def api_key(seeded: Runtime) -> Callable[..., str]:
    def make(role: str, *, store: str | None = None, member_id: str | None = None) -> str:
        with transaction(seeded.sessions) as session:
            _row, secret = create_api_key(
                session, name=role, role=role, store_code=store, member_id=member_id
            )
        return secret

    return make


@pytest.fixture
def member(
    console: Console, api_key: Callable[..., str], order: Callable[..., dict[str, object]]
) -> str:
    """A gold member with a nickname, a birthday and two visits at BJ001."""
    admin = {"Authorization": f"Bearer {api_key('admin')}"}
    first = order(
        "w-1",
        at="2026-02-01T12:00:00+08:00",
        customer={
            "phone": "13812345678",
            "phone_verified": True,
            "name": "王小明",
            "birthday": "1990-03-05",
        },
    )
    second = order(
        "w-2",
        at="2026-03-01T18:30:00+08:00",
        lines=[
            {
                "sku": "BR002",
                "quantity": 1,
                "unit_price_cents": 5800,
                "modifiers": ["no coriander"],
            },
            {"sku": "DR001", "quantity": 2, "unit_price_cents": 1500},
        ],
    )
    for body in (first, second):
        response = console.client.post("/v1/orders", json=body, headers=admin)
        assert response.status_code == 200, response.text
    runtime = console.runtime
    with transaction(runtime.sessions) as session:
        (member_id,) = find_member_ids(session, runtime.keyring, "13812345678")
        row = session.get(Member, member_id)
        assert row is not None
        row.tier_code = "gold"
        row.points_balance = 1280
    return member_id
