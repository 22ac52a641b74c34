"""Builders for the privacy tests: order payloads, ingestion, the CLI and raw database access.

Everything is a fixture (tests run with --import-mode=importlib and no packages), and every
helper works on both databases: the `database_url` fixture gives a SQLite file or a
throwaway PostgreSQL schema.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from memberops.actor import Actor
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.config import Settings
from memberops.db import transaction
from memberops.orders.service import ImportReport, ingest
from memberops.privacy.crypto import KeyRing
from memberops.runtime import Runtime, open_runtime

PHONE_PREFIX = "139"
PRICES = {"BR001": 6800, "BR002": 5800, "MT001": 4800, "VG001": 1200, "DR001": 1500}


def phone_digits(n: int) -> str:
    """The n-th test mobile number: 11 national digits, valid for mainland China."""
    return f"{PHONE_PREFIX}{n:08d}"


def e164(n: int) -> str:
    return f"+86{phone_digits(n)}"


@dataclass(frozen=True)
class Person:
    """One customer the tests send orders for; `n` makes every value unique."""

    n: int

    @property
    def phone(self) -> str:
        return phone_digits(self.n)

    @property
    def phone_e164(self) -> str:
        return e164(self.n)

    @property
    def card(self) -> str:
        return f"HDT{self.n:09d}"

    @property
    def email(self) -> str:
        return f"guest.{self.n}@example.com"

    @property
    def name(self) -> str:
        return f"测试顾客{self.n}"


OrderBuilder = Callable[..., dict[str, Any]]
Ingester = Callable[..., ImportReport]


@pytest.fixture
def make_order() -> OrderBuilder:
    """`make_order(person=None, *, phone=..., card=..., email=..., name=..., quantity=...)`.

    A valid POS order whose total adds up; identifiers default to the person's.
    """
    counter = itertools.count(1)

    def build(
        person: Person | None = None,
        *,
        phone: str | None = None,
        card: str | None = None,
        email: str | None = None,
        name: str | None = None,
        with_card: bool = True,
        with_email: bool = False,
        quantity: int = 2,
        sku: str = "BR001",
        store_code: str = "BJ001",
        source_order_id: str | None = None,
    ) -> dict[str, Any]:
        customer: dict[str, Any] = {}
        if person is not None:
            phone = phone or person.phone
            card = card or (person.card if with_card else None)
            email = email or (person.email if with_email else None)
            name = name or person.name
        if phone is not None:
            customer.update(phone=phone, phone_verified=True)
        if card is not None:
            customer["card_no"] = card
        if email is not None:
            customer.update(email=email, email_verified=True)
        if name is not None:
            customer["name"] = name
        price = PRICES[sku]
        return {
            "source": "pos",
            "source_order_id": source_order_id or f"priv-{next(counter):06d}",
            "channel": "pos",
            "store_code": store_code,
            "ordered_at": "2025-06-14T19:05:00+08:00",
            "customer": customer,
            "lines": [
                {"sku": sku, "quantity": quantity, "unit_price_cents": price, "modifiers": []}
            ],
            "discount_cents": 0,
            "total_cents": quantity * price,
        }

    return build


@pytest.fixture
def ingest_orders(admin: Actor) -> Ingester:
    """`ingest_orders(runtime, payloads, keyring=None)`: one committed batch."""

    def run(
        runtime: Runtime,
        payloads: Sequence[Mapping[str, Any]],
        *,
        keyring: KeyRing | None = None,
    ) -> ImportReport:
        records = [(f"test record {i + 1}", dict(p)) for i, p in enumerate(payloads)]
        with transaction(runtime.sessions) as session:
            return ingest(
                session,
                keyring or runtime.keyring,
                records,
                actor=admin,
                source_name="privacy-tests",
                fmt="jsonl",
            )

    return run


@pytest.fixture
def raw_engine(database_url: str) -> Iterator[Engine]:
    """A plain engine on the test database, for reading and tampering behind memberops' back."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def execute_sql(raw_engine: Engine) -> Callable[..., list[Any]]:
    """`execute_sql(sql, **params)` in its own committed transaction; returns rows if any."""

    def run(sql: str, **params: Any) -> list[Any]:
        with raw_engine.begin() as connection:
            result = connection.execute(text(sql), params)
            return list(result) if result.returns_rows else []

    return run


@pytest.fixture(autouse=True)
def dispose_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Engine]]:
    """Every engine `open_runtime` makes is disposed after the test.

    CLI commands never close the runtime they open (the process exits right after), and
    `open_runtime` does not dispose its engine when the key check fails; in-process both
    would leave PostgreSQL connections to the garbage collector (a ResourceWarning).
    """
    import memberops.runtime as runtime_module

    engines: list[Engine] = []
    real_make_engine = runtime_module.make_engine

    def tracked(url: str, **kwargs: Any) -> Engine:
        engine = real_make_engine(url, **kwargs)
        engines.append(engine)
        return engine

    monkeypatch.setattr(runtime_module, "make_engine", tracked)
    yield engines
    for engine in engines:
        engine.dispose()


@pytest.fixture
def memberops_exe() -> str:
    """The installed `memberops` console script of this virtual environment."""
    path = os.path.join(os.path.dirname(sys.executable), "memberops")
    assert os.access(path, os.X_OK), f"console script not found at {path}"
    return path


@pytest.fixture
def subprocess_env() -> Callable[..., dict[str, str]]:
    """`subprocess_env(home, database_url)`: a clean environment for a `memberops` process."""

    def build(home: Path, database_url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEMBEROPS_")}
        env.update(
            MEMBEROPS_HOME=str(home),
            MEMBEROPS_DATABASE_URL=database_url,
            COLUMNS="120",
            NO_COLOR="1",
            PYTHONIOENCODING="utf-8",
        )
        return env

    return build


@pytest.fixture
def person() -> Callable[[int], Person]:
    """`person(n)`: the n-th test customer (phone, card, email and name derived from n)."""
    return Person


PG_DUMP = "/usr/bin/pg_dump"


def dump_database(database_url: str) -> bytes:
    """Every byte the database holds: the SQLite file and its WAL, or a pg_dump of the schema."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        path = Path(url.database)
        parts = [path, path.with_name(path.name + "-wal")]
        return b"".join(p.read_bytes() for p in parts if p.exists())
    options = str(url.query.get("options", ""))
    match = re.search(r"search_path(?:=|%3D)(\w+)", options)
    assert match, f"no schema in {options!r}"
    completed = subprocess.run(
        [
            PG_DUMP,
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            f"--schema={match.group(1)}",
            "--no-owner",
            url.database or "test",
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return completed.stdout


@pytest.fixture
def database_dump(database_url: str) -> Callable[[], bytes]:
    """`database_dump()`: the raw bytes of the test database at this moment."""
    return lambda: dump_database(database_url)


PRIVACY_STORES = (
    StoreIn("BJ001", "Beijing Wangfujing", "Beijing", "North", "Asia/Shanghai"),
    StoreIn("SH001", "Shanghai Jing'an", "Shanghai", "East", "Asia/Shanghai"),
)
PRIVACY_ITEMS = tuple(ItemIn(sku, sku, "menu", price) for sku, price in PRICES.items())


@pytest.fixture
def sqlite_seeded(tmp_path: Path) -> Iterator[Runtime]:
    """A seeded runtime on a SQLite file, whatever database the rest of the suite uses."""
    home = tmp_path / "sqlite-home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'memberops.db'}")
    runtime = open_runtime(settings)
    with transaction(runtime.sessions) as session:
        upsert_stores(session, PRIVACY_STORES)
        upsert_items(session, PRIVACY_ITEMS)
    yield runtime
    runtime.close()
