"""Read-only transactions: no write lock on SQLite, nothing ever stored."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import func, select

from memberops.catalog.models import Store
from memberops.db import read_transaction, run_in_transaction, transaction
from memberops.runtime import Runtime


def test_read_transaction_runs_beside_an_open_writer_on_sqlite(seeded: Runtime) -> None:
    if seeded.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    path = seeded.engine.url.database
    assert path
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE stores SET name = 'renamed'")
    try:
        started = time.perf_counter()
        with read_transaction(seeded.read_sessions) as session:
            names = set(session.scalars(select(Store.name)))
        elapsed = time.perf_counter() - started
    finally:
        writer.rollback()
        writer.close()
    assert elapsed < 1.0  # a writing transaction would wait up to 30 s here
    assert "renamed" not in names  # the snapshot from before the writer


def test_read_transaction_never_stores_anything(seeded: Runtime) -> None:
    with read_transaction(seeded.read_sessions) as session:
        before = session.scalar(select(func.count()).select_from(Store))
    with transaction(seeded.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Store)) == before


def test_run_in_transaction_reruns_a_lost_race_and_gives_up_on_other_errors(
    seeded: Runtime,
) -> None:
    calls: list[int] = []

    def flaky(session: object) -> str:
        calls.append(1)
        if len(calls) == 1:
            error = sqlite3.OperationalError("database is locked")
            from sqlalchemy.exc import OperationalError

            raise OperationalError("BEGIN", {}, error)
        return "stored"

    assert run_in_transaction(seeded.sessions, flaky) == "stored"
    assert len(calls) == 2

    def broken(session: object) -> None:
        calls.append(1)
        raise ValueError("a bug, not a race")

    calls.clear()
    with pytest.raises(ValueError):
        run_in_transaction(seeded.sessions, broken)
    assert len(calls) == 1
