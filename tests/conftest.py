"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when
MEMBEROPS_TEST_DATABASE_URL is set), opened through the same runtime as production."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from memberops.actor import Actor
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.cli.main import app
from memberops.config import Settings
from memberops.db import transaction
from memberops.runtime import Runtime, open_runtime

PG_URL = os.environ.get("MEMBEROPS_TEST_DATABASE_URL")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a throwaway PostgreSQL schema."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'memberops.db'}"
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url, keys_json=None)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = open_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def admin() -> Actor:
    return Actor(kind="cli", id="tester", role="admin")


DEFAULT_STORES = (
    StoreIn("BJ001", "Beijing Wangfujing", "Beijing", "North", "Asia/Shanghai"),
    StoreIn("SH001", "Shanghai Jing'an", "Shanghai", "East", "Asia/Shanghai"),
)
DEFAULT_ITEMS = (
    ItemIn("BR001", "Spicy broth", "broths", 6800),
    ItemIn("BR002", "Tomato broth", "broths", 5800),
    ItemIn("MT001", "Beef slices", "meats", 4800),
    ItemIn("VG001", "Potato slices", "vegetables", 1200),
    ItemIn("DR001", "Lemon juice", "drinks", 1500),
)


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    """A runtime whose catalog has two stores and five items."""
    with transaction(runtime.sessions) as session:
        upsert_stores(session, DEFAULT_STORES)
        upsert_items(session, DEFAULT_ITEMS)
    return runtime


@pytest.fixture
def session(seeded: Runtime) -> Iterator[Session]:
    """A session on the seeded database; committed at the end like an edge would."""
    with transaction(seeded.sessions) as s:
        yield s


# ----------------------------------------------------------------------------- records
OrderFactory = Callable[..., dict[str, Any]]


def make_order(
    order_id: str = "1",
    *,
    source: str = "pos",
    store: str = "BJ001",
    at: str = "2026-03-01T18:30:00+08:00",
    customer: dict[str, Any] | None = None,
    lines: list[dict[str, Any]] | None = None,
    discount: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    lines = (
        lines
        if lines is not None
        else [
            {"sku": "BR001", "quantity": 1, "unit_price_cents": 6800, "modifiers": ["No  Onions"]},
            {"sku": "MT001", "quantity": 2, "unit_price_cents": 4800},
        ]
    )
    total = sum(line["quantity"] * line["unit_price_cents"] for line in lines) - discount
    order = {
        "source": source,
        "source_order_id": order_id,
        "channel": extra.pop("channel", "pos"),
        "store_code": store,
        "ordered_at": at,
        "party_size": 2,
        "customer": customer
        if customer is not None
        else {"phone": "13812345678", "phone_verified": True},
        "lines": lines,
        "discount_cents": discount,
        "total_cents": total,
    }
    order.update(extra)
    return order


@pytest.fixture
def order() -> OrderFactory:
    return make_order


# ----------------------------------------------------------------------------- the CLI
@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """The environment a `memberops` command needs to open the test database."""
    return {
        "MEMBEROPS_HOME": str(settings.home),
        "MEMBEROPS_DATABASE_URL": settings.database_url,
        "MEMBEROPS_KEYS": "",
    }


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Callable[..., CliResult]:
    """`cli("audit", "verify")`: the real Typer app, in-process, against the test database."""
    runner = CliRunner()

    def invoke(*args: str, env: Mapping[str, str] | None = None) -> CliResult:
        result = runner.invoke(app, list(args), env={**cli_env, **(env or {})})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke
