"""The segment builder in a real browser: the count follows the typing, errors show
inline with their column, no inline script trips the CSP, no serious axe violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from builders import add_segment_member
from memberops.api.app import create_app
from memberops.catalog.service import StoreIn, upsert_stores
from memberops.config import Settings
from memberops.db import transaction
from memberops.runtime import open_runtime
from memberops.web.auth import create_staff_account
from web.live import AXE, CHROMIUM, CHROMIUM_ARGS, artifacts_dir, serve

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

if CHROMIUM.exists():
    from playwright.sync_api import Page, expect, sync_playwright

PASSWORD = "browser test secret"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("segments-console")
    runtime = open_runtime(Settings(home=home, database_url=f"sqlite:///{home / 'm.db'}"))
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        upsert_stores(
            session, [StoreIn("BJ001", "Beijing Wangfujing", "Beijing", "North", "Asia/Shanghai")]
        )
        for visits in (5, 4, 1):
            add_segment_member(
                session, visits=visits, last_visit=now - timedelta(days=3), store_code="BJ001"
            )
        create_staff_account(session, username="admin1", password=PASSWORD, role="admin")
    try:
        with serve(create_app(runtime)) as url:
            yield url
    finally:
        runtime.close()


@pytest.fixture
def page(base: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
        tab = context.new_page()
        csp: list[str] = []
        tab.on(
            "console",
            lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None,
        )
        tab.set_default_timeout(10_000)
        yield tab
        tab.screenshot(path=str(artifacts_dir() / f"{request.node.name}.png"), full_page=True)
        browser.close()
        assert csp == [], csp


def test_count_follows_the_expression(page: Page, base: str) -> None:
    page.goto(base + "/signin")
    page.fill("#username", "admin1")
    page.fill("#password", PASSWORD)
    page.click("#signin-password button[type=submit]")
    page.wait_for_url(re.compile(r".*/desk$"))
    page.goto(base + "/segments")
    expect(page.locator("h1")).to_have_text("Segment builder")
    page.fill("#seg-expression", "visits >= 3")
    expect(page.locator("#seg-result")).to_have_text("2 members match")
    page.fill("#seg-expression", "visits >= 3 and vists < 2")
    expect(page.locator("#seg-result")).to_contain_text("column 17: unknown field 'vists'")
    expect(page.locator("#seg-result")).to_have_attribute("data-state", "error")
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [v["id"] for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    assert serious == []
