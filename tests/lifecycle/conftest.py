"""These tests run commands in-process, which open runtimes of their own; every engine
they make is disposed after each test (see `dispose_engines` in tests/conftest.py), so no
PostgreSQL connection is left to the garbage collector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine


@pytest.fixture(autouse=True)
def _dispose_engines_after_each_test(dispose_engines: list[Engine]) -> Iterator[None]:
    yield
