"""An API over a real database per test module: a SQLite file, and PostgreSQL when
MEMBEROPS_TEST_DATABASE_URL is set (each module in a schema of its own, dropped after).
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from api.builders import OTHER_STORE, SKUS, STORE
from memberops.api.app import create_app
from memberops.api.auth import create_api_key
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.config import Settings
from memberops.db import transaction
from memberops.privacy import audit
from memberops.runtime import Runtime, open_runtime

with warnings.catch_warnings():
    # Starlette asks for httpx2 with a UserWarning subclass, which the project's
    # DeprecationWarning filter does not catch; the httpx client works the same.
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

__all__ = ["Api", "TestClient"]

PG_URL_ENV = "MEMBEROPS_TEST_DATABASE_URL"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database for the module."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'm.db'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is not set")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def runtime(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """Schema migrated, keys created, two stores and their menu loaded."""
    home = tmp_path_factory.mktemp("home")
    rt = open_runtime(Settings(home=home, database_url=database_url, keys_json=None))
    with transaction(rt.sessions) as session:
        upsert_stores(
            session,
            [
                StoreIn(STORE, "Chengdu Chunxi Rd", "Chengdu", "southwest", "Asia/Shanghai"),
                StoreIn(OTHER_STORE, "Beijing Sanlitun", "Beijing", "north", "Asia/Shanghai"),
            ],
        )
        upsert_items(
            session,
            [ItemIn(sku, sku.title(), "menu", price) for sku, price in SKUS.items()],
        )
    yield rt
    rt.close()


@dataclass
class Api:
    """A client with one key per role and the calls the tests repeat."""

    runtime: Runtime
    client: TestClient
    secrets_by_role: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    def key(self, role: str, **scope: Any) -> str:
        """A new key for `role` (optionally bound to a store or a member)."""
        with transaction(self.runtime.sessions) as session:
            row, secret = create_api_key(session, name=f"test {role}", role=role, **scope)
            self.key_ids[secret] = row.id
        return secret

    def auth(self, role_or_secret: str) -> dict[str, str]:
        """Headers for a role's shared key, or for a given secret."""
        if role_or_secret.startswith("mo_"):
            secret = role_or_secret
        else:
            if role_or_secret not in self.secrets_by_role:
                self.secrets_by_role[role_or_secret] = self.key(role_or_secret)
            secret = self.secrets_by_role[role_or_secret]
        return {"Authorization": f"Bearer {secret}"}

    def post_orders(self, body: Any, *, as_: str = "admin") -> Any:
        return self.client.post("/v1/orders", json=body, headers=self.auth(as_))

    def member_id_for(self, query: str) -> str:
        """The one member a front-desk lookup finds (as admin)."""
        response = self.client.get(
            "/v1/members", params={"query": query}, headers=self.auth("admin")
        )
        assert response.status_code == 200, response.text
        members = response.json()["members"]
        assert len(members) == 1, members
        return str(members[0]["id"])

    def audit_entries(self, *, action: str, secret: str | None = None) -> list[Any]:
        actor_id = self.key_ids[secret] if secret else None
        with transaction(self.runtime.sessions) as session:
            return audit.list_entries(session, actions=[action], actor_id=actor_id)


@pytest.fixture(scope="module")
def api(runtime: Runtime) -> Iterator[Api]:
    # Rate limits have tests of their own (test_ratelimit.py); here they would only
    # throttle tests that post as fast as they can.
    with TestClient(create_app(runtime, rate_limits=None)) as client:
        yield Api(runtime=runtime, client=client)
