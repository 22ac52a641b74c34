"""The interactive API documentation in a real browser: Swagger UI renders the API's own
OpenAPI document from assets served by the app, nothing leaves 127.0.0.1 and the page's
CSP is never violated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memberops.api.app import create_app
from memberops.config import Settings
from memberops.runtime import open_runtime
from web.live import CHROMIUM, CHROMIUM_ARGS, artifacts_dir, serve

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

if CHROMIUM.exists():
    from playwright.sync_api import Request, Route, expect, sync_playwright


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    runtime = open_runtime(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    try:
        with serve(create_app(runtime)) as url:
            yield url
    finally:
        runtime.close()


def test_docs_render_every_operation_from_local_assets(base: str) -> None:
    outside: list[str] = []
    csp_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context()

        def guard(route: Route, request: Request) -> None:
            if request.url.startswith(base + "/") or request.url.startswith("data:"):
                route.continue_()
            else:
                outside.append(request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.on(
            "console",
            lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(base + "/v1/docs")
        title = page.locator(".swagger-ui .info .title")
        expect(title).to_contain_text("memberops", timeout=15_000)
        expect(page.locator(".opblock-summary-path[data-path='/v1/orders']").first).to_be_visible()
        expect(page.locator("button.authorize")).to_be_visible()
        page.screenshot(path=str(artifacts_dir() / "api_docs.png"))
        browser.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert csp_errors == [], csp_errors
