"""The first minute of `memberops demo`: the port is checked before loading, an existing
database is kept unless --reset, a working admin key is always printed."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from memberops.apikeys.service import authenticate
from memberops.db import transaction
from memberops.runtime import Runtime


def test_a_taken_port_is_named_before_anything_loads(cli: Callable[..., Any]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli("demo", "--members", "1000", "--months", "1", "--port", str(port))
    assert result.exit_code != 0
    assert f"port {port}" in result.output and "--port" in result.output
    assert "Loaded" not in result.output


@pytest.mark.slow
def test_a_second_demo_needs_reset_and_every_run_prints_a_working_key(
    cli: Callable[..., Any], runtime: Runtime
) -> None:
    args = ("demo", "--members", "1000", "--months", "1", "--no-serve")
    first = cli(*args)
    assert first.exit_code == 0, first.output
    again = cli(*args)
    assert again.exit_code != 0
    assert "--reset" in again.output
    replaced = cli(*args, "--reset")
    assert replaced.exit_code == 0, replaced.output
    secret = replaced.output.split("shown once):")[1].split()[0]
    with transaction(runtime.sessions) as session:
        actor = authenticate(session, secret)
    assert actor is not None and actor.role == "admin"
