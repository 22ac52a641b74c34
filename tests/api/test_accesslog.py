"""One access-log line per request: route template, query names, status, caller; never a
personal value from the path or the query string."""

from __future__ import annotations

import logging

import pytest

from builders import Api
from memberops.api.accesslog import ACCESS_LOGGER

PHONE = "13912345678"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER]


def test_lookup_is_logged_with_the_route_and_the_caller_not_the_phone(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    headers = api.auth("staff")
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        api.client.get("/v1/members", params={"query": PHONE}, headers=headers)
        api.client.get(f"/v1/members/{PHONE}", headers=headers)
        api.client.get(f"/v1/no-such-thing/{PHONE}")
    lines = _lines(caplog)
    assert len(lines) == 3
    assert all(PHONE not in line for line in lines)
    assert lines[0].startswith("GET /v1/members query=query status=200")
    assert "role=staff" in lines[0] and "caller=api_key:" in lines[0]
    assert lines[1].startswith("GET /v1/members/{member_id} query=- status=")
    assert lines[2].startswith("GET <unmatched> query=- status=404")
    assert "caller=- role=-" in lines[2]


def test_refused_and_failed_requests_are_logged_too(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        api.client.get("/v1/members", params={"query": PHONE})  # no key
        api.client.post("/v1/orders", content=b"{", headers=api.auth("pos"))
    lines = _lines(caplog)
    assert lines[0].startswith("GET /v1/members query=query status=401")
    assert lines[1].startswith("POST /v1/orders query=- status=4")
    assert all(PHONE not in line for line in lines)


def test_nothing_is_logged_when_the_logger_is_off(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=ACCESS_LOGGER):
        api.client.get("/v1/health")
    assert _lines(caplog) == []
