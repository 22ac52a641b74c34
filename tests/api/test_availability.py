"""The server never wedges: readers run beside a writer, and a database that is busy or
out of reach answers 503 with the one error body on every route, then recovers."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from builders import Api, new_phone, order
from memberops.api.app import create_app
from memberops.config import Settings
from memberops.db import make_engine, make_read_session_factory, make_session_factory
from memberops.runtime import Runtime, open_runtime


@pytest.fixture
def impatient(settings: Settings, api_runtime: Runtime) -> Iterator[Api]:
    """The module's database, served by a runtime that waits at most half a second."""
    del api_runtime  # migrated and seeded by the module's runtime
    rt = open_runtime(replace(settings, home=settings.home, lock_timeout_s=0.5))
    rt_settings = rt.settings
    assert rt_settings.lock_timeout_s == 0.5
    with TestClient(create_app(rt)) as client:
        yield Api(runtime=rt, client=client)
    rt.close()


@pytest.fixture
def settings(api_runtime: Runtime) -> Settings:
    """The module runtime's settings (same database and key file)."""
    return api_runtime.settings


def _sqlite_path(runtime: Runtime) -> str:
    database = runtime.engine.url.database
    assert database
    return database


def _hold_write_lock(runtime: Runtime) -> sqlite3.Connection:
    writer = sqlite3.connect(_sqlite_path(runtime), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE stores SET name = name")
    return writer


def test_reader_is_not_blocked_by_an_open_writer_on_sqlite(impatient: Api) -> None:
    if impatient.runtime.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    phone = new_phone()
    assert impatient.post_orders(order(phone=phone)).status_code == 200
    member_id = impatient.member_id_for(phone)
    headers = impatient.auth("staff")
    writer = _hold_write_lock(impatient.runtime)
    try:
        started = time.perf_counter()
        response = impatient.client.get(f"/v1/members/{member_id}/consents", headers=headers)
        elapsed = time.perf_counter() - started
    finally:
        writer.rollback()
        writer.close()
    assert response.status_code == 200, response.text
    assert elapsed < 0.4  # below the lock timeout: it never waited for the writer


def test_busy_sqlite_answers_503_with_retry_after(impatient: Api) -> None:
    if impatient.runtime.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    headers = impatient.auth("admin")
    writer = _hold_write_lock(impatient.runtime)
    try:
        response = impatient.client.post("/v1/orders", json=order(), headers=headers)
    finally:
        writer.rollback()
        writer.close()
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable"
    assert response.headers["retry-after"] == "1"
    # The lock is gone: the same request now succeeds.
    assert impatient.client.post("/v1/orders", json=order(), headers=headers).status_code == 200


def _unreachable_url(runtime: Runtime, tmp_path: Path) -> str:
    if runtime.engine.dialect.name == "sqlite":
        return f"sqlite:///{tmp_path}"  # a directory: the file cannot be opened
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"


def test_member_lookup_answers_503_while_the_database_is_unreachable(
    api: Api, tmp_path: Path
) -> None:
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).status_code == 200
    headers = api.auth("staff")
    runtime = api.runtime
    kept = (runtime.engine, runtime.sessions, runtime.read_sessions)
    down = make_engine(_unreachable_url(runtime, tmp_path), lock_timeout_s=1)
    runtime.engine = down
    runtime.sessions = make_session_factory(down)
    runtime.read_sessions = make_read_session_factory(down)
    try:
        lookup = api.client.get("/v1/members", params={"query": phone}, headers=headers)
        post = api.client.post("/v1/orders", json=order(), headers=api.auth("admin"))
    finally:
        runtime.engine, runtime.sessions, runtime.read_sessions = kept
        down.dispose()
    for response in (lookup, post):
        assert response.status_code == 503, response.text
        assert response.json() == {
            "error": "unavailable",
            "message": "the database is busy or not reachable; retry shortly",
        }
    # Back again: answers resume without a restart.
    again = api.client.get("/v1/members", params={"query": phone}, headers=headers)
    assert again.status_code == 200 and len(again.json()["members"]) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_server_stops_cleanly_on_sigterm(api_runtime: Runtime) -> None:
    runtime = api_runtime
    port = _free_port()
    env = {
        **os.environ,
        "MEMBEROPS_HOME": str(runtime.settings.home),
        "MEMBEROPS_DATABASE_URL": runtime.settings.database_url,
    }
    env.pop("MEMBEROPS_KEYS", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "memberops"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise AssertionError(f"the server did not start: {server.communicate()}")
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells
    # a supervisor why it stopped.
    assert server.returncode in (0, -signal.SIGTERM), err
    assert "Traceback" not in err
