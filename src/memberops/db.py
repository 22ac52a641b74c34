"""Engine, sessions and the column types every capability shares.

SQLite is the embedded default and PostgreSQL the production database. SQLite ignores
`SELECT ... FOR UPDATE`, and a deferred `BEGIN` that reads and then writes fails with
SQLITE_BUSY under concurrency, so every SQLite writing transaction starts with
`BEGIN IMMEDIATE` (writers queue). Read-only work goes through `read_transaction`, which
starts a deferred transaction that never takes the write lock: in WAL mode it reads its
snapshot beside a running writer.

Waits are bounded: a SQLite writer waits `lock_timeout_s` for the lock, a request waits
at most that long for a pooled connection, and PostgreSQL connects within 5 seconds. A
wait that runs out is an `OperationalError`/`TimeoutError`, which the edges report as
"unavailable, retry" (HTTP 503) instead of hanging.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, String, Table, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from memberops import clock

__all__ = [
    "PURGE_FREED_PAGES",
    "READ_ONLY",
    "Base",
    "IdString",
    "UtcDateTime",
    "bulk_insert",
    "is_retryable",
    "is_unavailable",
    "make_engine",
    "make_read_session_factory",
    "make_session_factory",
    "new_id",
    "read_transaction",
    "run_in_transaction",
    "table_of",
    "transaction",
    "utcnow",
]

T = TypeVar("T")

# Execution option carried by read-only connections (see `make_read_session_factory`).
READ_ONLY = "memberops_read_only"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of all memberops tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def IdString() -> String:  # noqa: N802 - reads like a type in column declarations
    """Opaque identifiers: 26 characters, time-ordered so B-tree inserts stay local."""
    return String(26)


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, for bulk `executemany` inserts (no ORM overhead)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


_COPY_MIN_ROWS = 50


def bulk_insert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction, as fast as the database allows.

    PostgreSQL gets COPY (several times faster than row-by-row inserts; BENCHMARKS.md);
    SQLite gets one prepared statement executed many times. Every row must carry the
    same keys.
    """
    if not rows:
        return
    table = table_of(model)
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    # Quoted: a column may be named after an SQL keyword (member_profiles.transaction).
    quoted = [dialect.identifier_preparer.quote(c) for c in columns]
    if dialect.name == "sqlite":
        # The driver's executemany with SQLAlchemy's own bind processors (UTC times, JSON):
        # the same stored values as a Core insert at a fraction of the per-row cost.
        processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
        # Table and column names come from the metadata, never from input.
        sql = (
            f"INSERT INTO {table.name} ({', '.join(quoted)}) "  # noqa: S608
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        params = [
            tuple(
                row[c] if proc is None else proc(row[c])
                for c, proc in zip(columns, processors, strict=True)
            )
            for row in rows
        ]
        session.connection().exec_driver_sql(sql, params)
        return
    if dialect.name != "postgresql" or len(rows) < _COPY_MIN_ROWS:
        # A COPY costs a few round trips of its own; a handful of rows is one INSERT.
        session.execute(table.insert(), rows)
        return
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    copy_sql = f"COPY {table.name} ({', '.join(quoted)}) FROM STDIN"
    driver: Any = session.connection().connection.driver_connection  # a psycopg Connection
    with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in json_columns else row[c] for c in columns])


def new_id() -> str:
    """A new opaque, time-ordered id (48-bit milliseconds + 80 random bits, hex)."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(7)}"


def utcnow() -> datetime:
    """The current time in UTC, from the process clock (`memberops.clock`)."""
    return clock.now().astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on both databases.

    SQLite has no timezone type and would hand back naive values, so values are stored
    as UTC and always come back aware. Naive input is refused: a time without an
    offset is ambiguous and the caller must decide what it means.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: memberops stores timezone-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str, *, echo: bool = False, lock_timeout_s: float = 30.0) -> Engine:
    """Create an engine with the right transaction behaviour for each database.

    `lock_timeout_s` bounds every wait: for SQLite's write lock and for a pooled
    connection. Commands that import large files keep the default; the server uses less.
    """
    pool_timeout = max(1.0, lock_timeout_s)
    # Two connections for each request the server admits at once (memberops.api.overload):
    # admitted requests never wait for a connection.
    pool = {"pool_size": 10, "max_overflow": 40, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        busy_ms = int(lock_timeout_s * 1000)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": lock_timeout_s},
            **pool,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so BEGIN IMMEDIATE below is ours.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Deleted rows are overwritten, so erased personal data and blind indexes do
            # not linger in free pages of the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()
            if path and path != ":memory:":
                # The file holds ciphertext only, but its owner alone should read it.
                os.chmod(path, 0o600)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # Readers begin deferred: a WAL snapshot, no write lock (issue: one writer
            # used to stall every front-desk lookup behind a large batch).
            if connection.get_execution_options().get(READ_ONLY):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
        **pool,
    )


PURGE_FREED_PAGES = "memberops.purge_freed_pages"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire on commit (objects stay readable after the edge commits).

    A session that erased personal data sets `session.info[PURGE_FREED_PAGES]`; after its
    commit, SQLite's write-ahead log is checkpointed and truncated, so the old page images
    holding the erased values leave the disk too.
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    @event.listens_for(factory, "after_commit")
    def _purge(session: Session) -> None:
        if not session.info.pop(PURGE_FREED_PAGES, False) or engine.dialect.name != "sqlite":
            return
        raw = engine.raw_connection()
        try:
            driver: Any = raw.driver_connection  # a sqlite3 Connection in autocommit mode
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()

    return factory


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The edge's unit of work: commit once on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read-only work: never the SQLite write lock; read-only on PostgreSQL."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return sessionmaker(bind=engine.execution_options(**options), expire_on_commit=False)


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A read-only unit of work: always rolled back, so nothing it does is ever stored."""
    session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


# SQLSTATEs after which running the whole transaction again is correct: serialisation
# failure, deadlock, and a unique violation (another transaction stored the same key
# between our check and our insert; the rerun sees it and reports a duplicate).
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "23505"})


def _sqlstate(error: BaseException) -> str | None:
    # Wrapped by SQLAlchemy (`orig`), or raw from the driver (bulk COPY on PostgreSQL).
    state = getattr(getattr(error, "orig", error), "sqlstate", None)
    return state if isinstance(state, str) else None


# Connection exceptions, server shutting down, out of resources, serialisation, deadlock.
_UNAVAILABLE_STATE_PREFIXES = ("08", "53", "57P", "40001", "40P01")


def is_retryable(error: BaseException) -> bool:
    """Whether rerunning the failed transaction from the start may succeed."""
    if _sqlstate(error) in _RETRYABLE_SQLSTATES:
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def is_unavailable(error: BaseException) -> bool:
    """Whether the database is out of reach or saturated (the caller should retry later).

    Not a bug in the request: the database is down, a lock or a pooled connection was not
    had in time, or a transaction kept losing to concurrent ones.
    """
    if isinstance(error, sa_exc.TimeoutError):  # the connection pool
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    state = _sqlstate(error)
    return state is not None and state.startswith(_UNAVAILABLE_STATE_PREFIXES)


def run_in_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = 5,
    base_delay_s: float = 0.02,
) -> T:
    """Run `work` in a transaction, rerunning it from the start on a retryable failure.

    Concurrent writers of the same keys on PostgreSQL meet as a unique violation, a
    serialisation failure or a deadlock; the rerun sees what the winner stored, so
    duplicate detection and insert together behave as one atomic step. `work` must
    have no effect outside the session (it may run more than once).
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction(factory) as session:
                return work(session)
        except Exception as error:
            if attempt >= attempts or not is_retryable(error):
                raise
            # Jittered exponential backoff, so the losers do not collide again in step.
            time.sleep(base_delay_s * (2 ** (attempt - 1)) * (0.5 + random.random()))  # noqa: S311
    raise AssertionError("unreachable")  # pragma: no cover
