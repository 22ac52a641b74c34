"""Loyalty pages and the dashboard registry in a real browser (Debian's Chromium).

Same rules as test_browser.py: what a person sees, nothing leaves 127.0.0.1, no CSP
violation, zero serious axe-core violations, screenshots kept under
test-artifacts/browser/.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from memberops.db import transaction
from memberops.demo.cli import run_member_analytics
from memberops.loyalty.models import TierHistory
from memberops.loyalty.rules import DEFAULT_POLICY_TOML
from memberops.web.auth import create_staff_account
from web import test_browser as shared
from web.live import CHROMIUM
from web.test_browser import PASSWORD, Site, axe_check, sign_in, to_english

# The console's browser fixtures: a seeded site on 127.0.0.1, Chromium, a guarded tab.
site = shared.site
browser = shared.browser
page = shared.page

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

if CHROMIUM.exists():
    from playwright.sync_api import Page, expect

BROKEN = DEFAULT_POLICY_TOML.replace('code = "silver"', "code = 7", 1)


@pytest.fixture(scope="module")
def loyalty_site(site: Site) -> Site:
    """A second admin (for approvals) and tier moves to draw."""
    with transaction(site.runtime.sessions) as session:
        create_staff_account(session, username="admin2", password=PASSWORD, role="admin")
        for month, (source, target) in enumerate(
            [(None, "red"), ("red", "silver"), ("silver", "gold")], start=1
        ):
            session.add(
                TierHistory(
                    member_id=site.member_id,
                    from_code=source,
                    to_code=target,
                    reason="upgrade",
                    at=datetime(2026, month, 15, tzinfo=UTC),
                    metrics={},
                    policy_version=0,
                    actor="test",
                )
            )
    return site


def sign_out(page: Page) -> None:
    page.click("form[action='/signout'] button")
    page.wait_for_url(re.compile(r".*/signin$"))


def test_policy_validate_then_simulate(page: Page, loyalty_site: Site) -> None:
    live = loyalty_site
    sign_in(page, live, "admin1")
    to_english(page)
    page.goto(live.base + "/loyalty/policy")
    expect(page.locator("h1")).to_have_text("Tier policy")
    axe_check(page)
    page.fill("#document", BROKEN)
    page.click("#validate")
    error = page.locator("#policy-error")
    expect(error).to_be_visible()
    expect(page.locator("#err-record")).to_contain_text("policy line")
    expect(page.locator("#err-field")).to_contain_text("code")
    axe_check(page)
    page.fill("#document", DEFAULT_POLICY_TOML.replace("Black Sea", "Deep Sea"))
    page.click("#simulate")
    section = page.locator("#simulation")
    expect(section).to_be_visible()
    expect(page.locator("#policy-ok")).to_contain_text("Sea ladder")
    expect(page.locator("#sim-tiers tbody tr").first).to_be_visible()
    drawn = page.evaluate(
        "typeof Chart !== 'undefined'"
        " && Chart.getChart(document.querySelector('#simulation canvas')) !== undefined"
    )
    assert drawn
    with page.expect_download() as download:
        page.click("#csv-moves")
    assert download.value.suggested_filename == "simulation-moves.csv"
    expect(page.locator("#activate")).to_be_visible()
    axe_check(page)


def test_adjustment_needs_a_second_person(page: Page, loyalty_site: Site) -> None:
    live = loyalty_site
    sign_in(page, live, "admin1")
    page.goto(f"{live.base}/loyalty/adjustments?member={live.member_id}")
    expect(page.locator("h1")).to_have_text("积分调整")
    page.fill("#a-points", "5000")
    page.fill("#a-reason", "补录三月小票")
    page.click("#adjust-form button[type=submit]")
    expect(page.locator(".notice")).to_have_text("超过限额：调整需等待另一人审批。")
    row = page.locator("#pending tbody tr").first
    expect(row).to_contain_text("补录三月小票")
    expect(row.locator(".own")).to_be_visible()
    expect(row.locator("button.approve")).to_have_count(0)
    axe_check(page)
    sign_out(page)
    sign_in(page, live, "admin2")
    page.goto(live.base + "/loyalty/adjustments")
    to_english(page)
    row = page.locator("#pending tbody tr").first
    expect(row).to_contain_text("+5,000")
    axe_check(page)
    row.locator("button.approve").click()
    expect(page.locator(".notice")).to_have_text("Approved: the points were posted.")
    expect(page.locator("#recent")).to_contain_text("approved")
    page.goto(f"{live.base}/members/{live.member_id}/statement")
    expect(page.locator("#statement")).to_contain_text("+5,000")
    axe_check(page)


def test_dashboard_tables_and_csv_in_both_languages(page: Page, loyalty_site: Site) -> None:
    live = loyalty_site
    sign_in(page, live, "admin1")
    page.goto(live.base + "/dashboards")
    flows = page.locator("#chart-tier_flows")
    expect(flows.get_by_role("heading")).to_have_text("每月等级变动")
    expect(flows.locator("table")).to_contain_text("2026-02")
    expect(flows.locator("a[download]")).to_have_attribute("href", "/dashboards/tier_flows.csv")
    drawn = page.evaluate(
        "Chart.getChart(document.querySelector('#chart-tier_flows canvas')) !== undefined"
    )
    assert drawn
    axe_check(page)
    to_english(page)
    expect(flows.get_by_role("heading")).to_have_text("Tier flows per month")
    moves = page.locator("#chart-tier_moves table")
    expect(moves).to_contain_text("silver → gold")
    with page.expect_download() as download:
        flows.locator("a[download]").click()
    path = download.value.path()
    assert path.read_text(encoding="utf-8").splitlines()[0] == "month,joined,up,down"
    axe_check(page)


def test_rfm_and_80_20_charts_in_both_languages(page: Page, loyalty_site: Site) -> None:
    live = loyalty_site
    run_member_analytics(live.runtime)
    sign_in(page, live, "admin1")
    page.goto(live.base + "/dashboards")
    segments = page.locator("#chart-rfm_segments")
    grid = page.locator("#chart-rfm_grid")
    curve = page.locator("#chart-concentration")
    expect(segments.get_by_role("heading")).to_have_text("RFM 分群：会员占比与消费占比")
    expect(segments.locator("thead")).to_contain_text("消费占比")
    expect(grid.locator("tbody th").first).to_have_text("R1")
    expect(curve.get_by_role("heading")).to_have_text("营收集中度（80/20 曲线）")
    expect(curve.locator("thead")).to_contain_text("营收占比")
    expect(curve.locator("tbody tr")).to_have_count(21)
    for chart in ("rfm_segments", "rfm_grid", "concentration"):
        drawn = page.evaluate(
            f"Chart.getChart(document.querySelector('#chart-{chart} canvas')) !== undefined"
        )
        assert drawn, chart
    axe_check(page)
    to_english(page)
    expect(segments.get_by_role("heading")).to_have_text(
        "RFM segments: share of members and of spend"
    )
    expect(segments.locator("tbody")).to_contain_text("champions")
    expect(curve.get_by_role("heading")).to_have_text("Revenue concentration (80/20 curve)")
    expect(curve.locator("thead")).to_contain_text("share of revenue")
    expect(curve.locator("tbody tr").last).to_contain_text("100")
    with page.expect_download() as download:
        curve.locator("a[download]").click()
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0] == "percent_of_members,share_of_revenue" and len(lines) == 22
    axe_check(page)
