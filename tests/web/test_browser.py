"""The console in a real browser (Debian's Chromium, driven by Playwright).

Each test asserts what a person sees, that no request left 127.0.0.1, that the page
raised no CSP violation, and that axe-core finds no serious or critical accessibility
violation. Screenshots are kept under test-artifacts/browser/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.config import Settings
from memberops.db import transaction
from memberops.identity.service import find_member_ids
from memberops.members.models import Member
from memberops.runtime import Runtime, open_runtime
from memberops.web.auth import create_staff_account
from web.live import AXE, CHROMIUM, CHROMIUM_ARGS, artifacts_dir, serve

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright

PASSWORD = "browser test secret"
PHONE = "13812345678"


@dataclass
class Site:
    base: str
    runtime: Runtime
    member_id: str
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A small seeded chain served on 127.0.0.1: two stores, one gold member, accounts."""
    home = tmp_path_factory.mktemp("console")
    runtime = open_runtime(Settings(home=home, database_url=f"sqlite:///{home / 'm.db'}"))
    with transaction(runtime.sessions) as session:
        upsert_stores(
            session,
            [
                StoreIn("BJ001", "Beijing Wangfujing", "Beijing", "North", "Asia/Shanghai"),
                StoreIn("SH001", "Shanghai Jing'an", "Shanghai", "East", "Asia/Shanghai"),
            ],
        )
        upsert_items(
            session,
            [
                ItemIn("BR001", "Spicy broth", "broths", 6800, name_local="麻辣锅底"),
                ItemIn("MT001", "Beef slices", "meats", 4800, name_local="肥牛"),
            ],
        )
        _row, admin_key = create_api_key(session, name="seed", role="admin")
        create_staff_account(
            session, username="staff1", password=PASSWORD, role="staff", store_code="BJ001"
        )
        create_staff_account(session, username="admin1", password=PASSWORD, role="admin")
    try:
        with serve(create_app(runtime)) as base:
            order = {
                "source": "pos",
                "source_order_id": "b-1",
                "channel": "pos",
                "store_code": "BJ001",
                "ordered_at": "2026-03-01T18:30:00+08:00",
                "party_size": 2,
                "customer": {
                    "phone": PHONE,
                    "phone_verified": True,
                    "nickname": "小明",
                    "birthday": "1990-03-05",
                },
                "lines": [
                    {
                        "sku": "BR001",
                        "quantity": 1,
                        "unit_price_cents": 6800,
                        "modifiers": ["no onions"],
                    },
                    {"sku": "MT001", "quantity": 2, "unit_price_cents": 4800},
                ],
                "discount_cents": 0,
                "total_cents": 16400,
            }
            response = httpx.post(
                f"{base}/v1/orders", json=order, headers={"Authorization": f"Bearer {admin_key}"}
            )
            assert response.status_code == 200, response.text
            with transaction(runtime.sessions) as session:
                (member_id,) = find_member_ids(session, runtime.keyring, PHONE)
                member = session.get(Member, member_id)
                assert member is not None
                member.tier_code, member.points_balance = "gold", 2400
            yield Site(base, runtime, member_id)
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, site: Site, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context that refuses (and records) anything not on 127.0.0.1."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    csp_errors: list[str] = []

    def guard(route: Route, req: Request) -> None:
        if req.url.startswith(site.base + "/") or req.url.startswith("data:"):
            route.continue_()
        else:
            site.outside.append(req.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    tab.set_default_timeout(10_000)
    yield tab
    tab.screenshot(path=str(artifacts_dir() / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert site.outside == [], f"requests left 127.0.0.1: {site.outside}"
    assert csp_errors == [], csp_errors


def axe_check(page: Page) -> None:
    """Zero serious or critical violations on the page as it stands."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert result["testEngine"] == {"name": "axe-core", "version": "4.11.0"}
    serious = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in result["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert serious == [], serious


def sign_in(page: Page, site: Site, username: str) -> None:
    page.goto(site.base + "/signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin-password button[type=submit]")
    page.wait_for_url(re.compile(r".*/desk$"))


def to_english(page: Page) -> None:
    page.click("a[hreflang=en]")
    page.wait_for_load_state()


def test_sign_in_refuses_a_wrong_password_then_lets_staff_in(page: Page, site: Site) -> None:
    page.goto(site.base + "/")
    expect(page.locator("h1")).to_have_text("登录")
    axe_check(page)
    page.fill("#username", "staff1")
    page.fill("#password", "wrong password")
    page.click("#signin-password button[type=submit]")
    expect(page.locator(".error")).to_contain_text("登录失败")
    sign_in(page, site, "staff1")
    expect(page.locator("h1")).to_have_text("前台查询")
    expect(page.locator("header .who")).to_contain_text("BJ001")


def test_front_desk_lookup_shows_the_card(page: Page, site: Site) -> None:
    sign_in(page, site, "staff1")
    page.fill("#q", "138-1234-5678")
    page.press("#q", "Enter")
    card = page.locator("#card")
    expect(card).to_be_visible()
    expect(card.locator("h2")).to_have_text("小明")
    expect(card).to_contain_text("gold")
    expect(card).to_contain_text("2,400")
    expect(card).to_contain_text("03-05")
    expect(card).not_to_contain_text("1990")
    expect(card).not_to_contain_text(PHONE)
    expect(page.locator("#same-as-last")).to_contain_text("麻辣锅底")
    expect(page.locator("#same-as-last")).to_contain_text("no onions")
    axe_check(page)


def test_adding_a_need_and_being_refused_a_forbidden_one(page: Page, site: Site) -> None:
    sign_in(page, site, "staff1")
    page.goto(f"{site.base}/desk/member/{site.member_id}")
    page.fill("#need-text", "大眼睛，很胖")
    screening = page.locator("#screening[data-verdict=reject]")
    expect(screening).to_be_visible()
    expect(screening).to_contain_text("描述了顾客的外貌或身体")
    expect(screening).to_contain_text("describes the customer's body or appearance")
    expect(page.locator("#need-submit")).to_be_disabled()
    axe_check(page)
    page.fill("#need-text", "")
    page.type("#need-text", "柠檬水加冰")
    expect(page.locator("#need-submit")).to_be_enabled()
    page.click("#need-submit")
    expect(page.locator(".notice")).to_have_text("需求已保存。")
    expect(page.locator("ul.needs")).to_contain_text("柠檬水加冰")
    expect(page.locator("ul.needs")).not_to_contain_text("大眼睛")


def test_member_360_for_an_admin(page: Page, site: Site) -> None:
    sign_in(page, site, "admin1")
    to_english(page)
    page.goto(f"{site.base}/members/{site.member_id}")
    expect(page.locator("h1")).to_contain_text("Member 360")
    for heading in (
        "Basic",
        "Membership",
        "Recent orders",
        "Labels and provenance",
        "Consents",
        "Who read this profile",
        "Merges",
    ):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.locator("#orders")).to_contain_text("BJ001")
    expect(page.locator("#audit")).to_contain_text("member.read")
    axe_check(page)


def test_members_list_for_an_admin(page: Page, site: Site) -> None:
    sign_in(page, site, "admin1")
    page.goto(site.base + "/members?tier=gold")
    expect(page.locator("#member-list")).to_contain_text(site.member_id)
    axe_check(page)


def test_dashboard_draws_charts_with_tables(page: Page, site: Site) -> None:
    sign_in(page, site, "admin1")
    to_english(page)
    page.goto(site.base + "/dashboards")
    section = page.locator("#chart-tiers")
    expect(section.get_by_role("heading")).to_have_text("Tier distribution")
    expect(section.locator("table")).to_contain_text("gold")
    width = page.evaluate("document.querySelector('#chart-tiers canvas').width")
    assert width > 0
    drawn = page.evaluate(
        "typeof Chart !== 'undefined'"
        " && Chart.getChart(document.querySelector('#chart-tiers canvas')) !== undefined"
    )
    assert drawn
    expect(section.locator("a[download]")).to_have_attribute("href", "/dashboards/tiers.csv")
    axe_check(page)


def test_complaint_from_intake_to_resolution(page: Page, site: Site) -> None:
    sign_in(page, site, "staff1")
    to_english(page)
    page.goto(f"{site.base}/complaints?member={site.member_id}")
    axe_check(page)
    page.select_option("#c-category", "wait")
    page.fill("#c-description", "waited 40 minutes for a table")
    page.click("#complaint-form button[type=submit]")
    expect(page.locator("#c-status")).to_have_text("open")
    expect(page.locator("#c-sla")).to_be_visible()
    axe_check(page)
    page.click("#take")
    expect(page.locator("#c-status")).to_have_text("in progress")
    page.fill("#resolution", "priority seating next visit")
    page.click("#resolve")
    expect(page.locator("#c-status")).to_have_text("resolved")
    expect(page.locator("#c-resolution")).to_contain_text("priority seating")
    page.goto(site.base + "/callbacks")
    expect(page.locator("#callback-list")).to_contain_text("after a complaint")
    axe_check(page)


def test_language_switch(page: Page, site: Site) -> None:
    sign_in(page, site, "staff1")
    expect(page.locator("h1")).to_have_text("前台查询")
    page.click("a[hreflang=en]")
    expect(page.locator("h1")).to_have_text("Front desk")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("a[hreflang=zh]")
    expect(page.locator("h1")).to_have_text("前台查询")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")


def test_requests_outside_127_0_0_1_are_caught(page: Page, site: Site) -> None:
    with pytest.raises(Exception, match="net::ERR_FAILED"):
        page.goto("http://192.0.2.1/tracker.js")
    caught, site.outside[:] = list(site.outside), []
    assert caught == ["http://192.0.2.1/tracker.js"]


def test_screenshots_are_kept(site: Site) -> None:
    shots: Callable[[], list[Path]] = lambda: sorted(artifacts_dir().glob("test_*.png"))  # noqa: E731
    assert shots(), "earlier browser tests leave their screenshots"
