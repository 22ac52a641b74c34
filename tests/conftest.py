"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when
MEMBEROPS_TEST_DATABASE_URL is set), opened through the same runtime as production; an
API over a database per module; the CLI in-process and as a subprocess; one SparkSession
for every Spark test.

The builders behind them live in `tests/builders.py`, the one set every test uses.
"""

from __future__ import annotations

import gc
import os
import secrets
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import builders
from builders import (
    DEFAULT_ITEMS,
    DEFAULT_STORES,
    OTHER_STORE,
    SKUS,
    STORE,
    Api,
    Person,
    TestClient,
    dump_database,
    person_order_builder,
)
from memberops.actor import Actor
from memberops.api.app import create_app
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.cli.main import app
from memberops.config import Settings
from memberops.db import transaction
from memberops.orders.service import ImportReport, ingest
from memberops.pipeline import engines as pipeline_engines
from memberops.privacy.crypto import KeyRing
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


@pytest.fixture
def order() -> OrderFactory:
    """`order("1", store=..., customer=..., lines=...)`: see builders.make_order."""
    return builders.make_order


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


# ----------------------------------------------------------------------------- customers
OrderBuilder = Callable[..., dict[str, Any]]
Ingester = Callable[..., ImportReport]


@pytest.fixture
def make_order() -> OrderBuilder:
    """`make_order(person=None, *, phone=..., card=..., ...)`: see builders.person_order_builder."""
    return person_order_builder()


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


@pytest.fixture
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


@pytest.fixture
def database_dump(database_url: str) -> Callable[[], bytes]:
    """`database_dump()`: the raw bytes of the test database at this moment."""
    return lambda: dump_database(database_url)


@pytest.fixture
def sqlite_seeded(tmp_path: Path) -> Iterator[Runtime]:
    """A seeded runtime on a SQLite file, whatever database the rest of the suite uses."""
    home = tmp_path / "sqlite-home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'memberops.db'}")
    runtime = open_runtime(settings)
    with transaction(runtime.sessions) as session:
        upsert_stores(session, DEFAULT_STORES)
        upsert_items(session, DEFAULT_ITEMS)
    yield runtime
    runtime.close()


# ----------------------------------------------------------------------------- the API
PG_URL_ENV = "MEMBEROPS_TEST_DATABASE_URL"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_database_url(
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
def api_runtime(
    api_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    """Schema migrated, keys created, two stores and their menu loaded."""
    home = tmp_path_factory.mktemp("home")
    rt = open_runtime(Settings(home=home, database_url=api_database_url, keys_json=None))
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


@pytest.fixture(scope="module")
def api(api_runtime: Runtime) -> Iterator[Api]:
    # Rate limits have tests of their own (tests/api/test_ratelimit.py); here they would
    # only throttle tests that post as fast as they can.
    with TestClient(create_app(api_runtime, rate_limits=None)) as client:
        yield Api(runtime=api_runtime, client=client)


# ----------------------------------------------------------------------------- Spark
# PySpark 4.0 itself calls pandas with a keyword pandas 3 deprecates, and py4j leaves its
# gateway sockets to the garbage collector; neither is ours to fix. Every test that uses
# the `spark` fixture (directly or through another fixture) ignores these.
SPARK_WARNINGS = (
    "ignore::pandas.errors.Pandas4Warning",
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


def _uses_spark(item: pytest.Item) -> bool:
    return "spark" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _uses_spark(item):
            for spec in SPARK_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one local SparkSession of the test run (`engines.spark_session()`): starting
    one takes 10 s or more, so every Spark test shares it. Skipped without Java."""
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime (java not found on PATH)")
    session = pipeline_engines.spark_session()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        session.stop()
        gc.collect()  # close py4j's sockets here, not during a later test


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last of a run of Spark tests, collect py4j's leftovers now, not during
    the next test (where their ResourceWarning would be an error)."""
    if _uses_spark(item) and (nextitem is None or not _uses_spark(nextitem)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gc.collect()
