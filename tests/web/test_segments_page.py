"""The console's segment builder: the live count, errors inline, saving, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from builders import add_segment_member
from memberops.db import transaction
from memberops.runtime import Runtime
from web.helpers import Console


def _members(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        add_segment_member(
            session, visits=5, last_visit=now - timedelta(days=2), store_code="BJ001"
        )
        add_segment_member(
            session, visits=4, last_visit=now - timedelta(days=2), store_code="SH001"
        )
        add_segment_member(
            session, visits=1, last_visit=now - timedelta(days=2), store_code="BJ001"
        )


def _preview(console: Console, expression: str, csrf: str) -> object:
    return console.client.post(
        "/console/segments/preview",
        json={"expression": expression},
        headers={"X-CSRF-Token": csrf},
    )


def test_live_count_and_inline_error(console: Console) -> None:
    _members(console.runtime)
    console.sign_in("analyst1")
    console.client.get("/lang/en")
    page = console.client.get("/segments")
    assert page.status_code == 200
    assert '<script src="/static/segments.js" defer></script>' in page.text
    assert "<script>" not in page.text
    csrf = console.csrf("/segments")
    ok = _preview(console, "visits >= 3", csrf)
    assert ok.json()["count"] == 2  # type: ignore[attr-defined]
    bad = _preview(console, "vists >= 3", csrf)
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "did you mean 'visits'?" in bad.json()["message"]  # type: ignore[attr-defined]
    assert _preview(console, "visits >= 3", "wrong").status_code == 403  # type: ignore[attr-defined]


def test_manager_counts_own_store_and_cannot_save(console: Console) -> None:
    _members(console.runtime)
    console.sign_in("manager1")
    csrf = console.csrf("/segments")
    assert _preview(console, "visits >= 1", csrf).json()["count"] == 2  # type: ignore[attr-defined]
    page = console.client.get("/segments").text
    assert 'value="save"' not in page


def test_staff_is_refused(console: Console) -> None:
    console.sign_in("staff1")
    assert console.client.get("/segments").status_code == 403


def test_admin_saves_without_script(console: Console) -> None:
    _members(console.runtime)
    console.sign_in("admin1")
    console.client.get("/lang/en")
    csrf = console.csrf("/segments")
    counted = console.client.post(
        "/segments", data={"csrf": csrf, "expression": "visits >= 3", "action": "preview"}
    )
    assert "2 members match" in counted.text
    saved = console.client.post(
        "/segments",
        data={"csrf": csrf, "expression": "visits >= 3", "action": "save", "name": "regulars"},
        follow_redirects=True,
    )
    assert "Segment saved." in saved.text and "regulars" in saved.text
    refused = console.client.post(
        "/segments",
        data={"csrf": csrf, "expression": "visits >>= 3", "action": "save", "name": "x"},
    )
    assert refused.status_code == 422 and "column 9" in refused.text
