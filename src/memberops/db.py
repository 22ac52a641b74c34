"""Engine, sessions and the column types every capability shares.

SQLite is the embedded default and PostgreSQL the production database. SQLite ignores
`SELECT ... FOR UPDATE`, and a deferred `BEGIN` that reads and then writes fails with
SQLITE_BUSY under concurrency, so every SQLite transaction starts with `BEGIN IMMEDIATE`
(writers queue; readers are unaffected in WAL mode).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, String, Table, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from memberops import clock

__all__ = [
    "PURGE_FREED_PAGES",
    "Base",
    "IdString",
    "UtcDateTime",
    "bulk_insert",
    "make_engine",
    "make_session_factory",
    "new_id",
    "table_of",
    "transaction",
    "utcnow",
]

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
    if dialect.name == "sqlite":
        # The driver's executemany with SQLAlchemy's own bind processors (UTC times, JSON):
        # the same stored values as a Core insert at a fraction of the per-row cost.
        processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
        # Table and column names come from the metadata, never from input.
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
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
    copy_sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
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


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the right transaction behaviour for each database."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so BEGIN IMMEDIATE below is ours.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
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
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


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
