"""Console pages over HTTP: what each role sees, the guard at the desk, the 360 view,
dashboards with tables and CSV, the complaint flow, both languages, the CSP."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select

from memberops.actor import system_actor
from memberops.db import transaction
from memberops.labels.models import Label
from memberops.privacy import audit
from memberops.privacy.consent import record_consent
from web.helpers import Console

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def en(console: Console) -> None:
    console.client.get("/lang/en", follow_redirects=False)


def add_need(console: Console, member: str, text: str) -> object:
    return console.client.post(
        f"/desk/member/{member}/needs",
        data={"csrf": console.csrf(), "text": text, "category": "service_need"},
        follow_redirects=False,
    )


def test_front_desk_card_is_role_minimised(console: Console, member: str) -> None:
    console.sign_in("staff1")
    en(console)
    page = console.client.get("/desk", params={"q": "138 1234 5678"}).text
    assert 'id="card"' in page
    assert "gold" in page and "1,280" in page
    assert "王*" in page and "王小明" not in page  # masked name, never the full name
    assert "13812345678" not in page and "5678" in page  # masked phone
    assert "03-05" in page and "1990" not in page  # birthday as month and day only
    assert "Tomato broth" in page and "no coriander" in page  # same as last time
    assert "Beijing Wangfujing" in page  # last visit's store
    with transaction(console.runtime.sessions) as session:
        actions = [e.action for e in audit.list_entries(session, member_id=member)]
    assert "member.card" in actions and "member.lookup" in actions


def test_unknown_phone_says_no_member(console: Console, member: str) -> None:
    console.sign_in("staff1")
    en(console)
    page = console.client.get("/desk", params={"q": "13900000000"}).text
    assert 'id="no-match"' in page and 'id="card"' not in page


def test_member_qr_opens_the_card(console: Console, member: str) -> None:
    console.sign_in("staff1")
    page = console.client.get("/desk", params={"q": f"memberops:member:{member}"}).text
    assert 'id="card"' in page


def test_dining_need_is_recorded(console: Console, member: str) -> None:
    console.sign_in("staff1")
    response = add_need(console, member, "ice in the lemon juice")
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    page = console.client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert "ice in the lemon juice" in page


def test_forbidden_note_is_refused_with_reasons_in_both_languages(
    console: Console, member: str
) -> None:
    console.sign_in("staff1")
    response = add_need(console, member, "round face, glasses, about 30 years old")
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.text  # type: ignore[attr-defined]
    assert 'id="refused"' in page
    assert "猜测了顾客的年龄" in page and "guesses the customer&#39;s age" in page
    with transaction(console.runtime.sessions) as session:
        assert session.scalars(select(Label).where(Label.source == "staff")).all() == []
        refused = audit.list_entries(session, member_id=member, actions=["labels.write"])
    assert [e.outcome for e in refused] == ["refused"]


def test_sensitive_need_needs_consent_then_shows(console: Console, member: str) -> None:
    console.sign_in("staff1")
    en(console)
    refused = add_need(console, member, "peanut allergy")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "record the member&#39;s consent first" in refused.text  # type: ignore[attr-defined]
    with transaction(console.runtime.sessions) as session:
        record_consent(
            session,
            member_id=member,
            purpose="sensitive_data",
            granted=True,
            channel="app",
            source="settings",
            notice_version="2026-01",
            actor=system_actor("test"),
        )
    assert add_need(console, member, "peanut allergy").status_code == 303  # type: ignore[attr-defined]
    assert "peanut allergy" in console.client.get(f"/desk/member/{member}").text


def test_live_screening_endpoint(console: Console) -> None:
    console.sign_in("staff1")
    headers = {"X-CSRF-Token": console.csrf()}
    ok = console.client.post("/console/screen", json={"text": "no onions"}, headers=headers).json()
    assert ok["verdict"] == "allow" and ok["messages"] == []
    bad = console.client.post(
        "/console/screen", json={"text": "很胖，戴眼镜"}, headers=headers
    ).json()
    assert bad["verdict"] == "reject" and "appearance" in bad["categories"]
    assert {m["category"] for m in bad["messages"]} == set(bad["categories"])
    assert all(m["zh"] and m["en"] for m in bad["messages"])


def test_members_list_and_filters_for_admin(console: Console, member: str) -> None:
    console.sign_in("admin1")
    page = console.client.get("/members", params={"tier": "gold"}).text
    assert member in page
    assert member not in console.client.get("/members", params={"tier": "silver"}).text
    assert member in console.client.get("/members", params={"store": "BJ001"}).text
    assert member in console.client.get("/members", params={"q": "13812345678"}).text


def test_manager_sees_own_store_and_staff_no_list(console: Console, member: str) -> None:
    console.sign_in("manager1")
    assert (
        member in console.client.get("/members", params={"store": "SH001"}).text
    )  # forced to BJ001
    console.sign_in("staff1")
    assert console.client.get("/members").status_code == 403


def test_member_360_for_admin_shows_reads_and_merges(console: Console, member: str) -> None:
    console.sign_in("admin1")
    en(console)
    page = console.client.get(f"/members/{member}").text
    for section in (
        "Basic",
        "Membership",
        "Transactions",
        "Personalised",
        "Recent orders",
        "Labels and provenance",
        "Consents",
        "Who read this profile",
        "Merges",
    ):
        assert section in page
    assert "王小明" in page  # admins see the full profile
    assert "member.read" in page  # the read itself is in the trail


def test_member_360_for_manager_hides_admin_sections(console: Console, member: str) -> None:
    console.sign_in("manager1")
    en(console)
    page = console.client.get(f"/members/{member}").text
    assert "Who read this profile" not in page and "Undo merge" not in page
    assert "13812345678" not in page


def test_dashboards_show_tables_and_csv(console: Console, member: str) -> None:
    console.sign_in("analyst1")
    en(console)
    page = console.client.get("/dashboards").text
    assert "Tier distribution" in page and '<th scope="row">gold</th>' in page
    assert "Orders by store" in page
    csv = console.client.get("/dashboards/tiers.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ["tier,members", "gold,1"]
    assert member not in page  # aggregates only


def test_staff_have_no_dashboards(console: Console) -> None:
    console.sign_in("staff1")
    assert console.client.get("/dashboards").status_code == 403


def test_complaint_from_intake_to_resolution(console: Console, member: str) -> None:
    console.sign_in("staff1")
    en(console)
    created = console.client.post(
        "/complaints",
        data={
            "csrf": console.csrf("/complaints"),
            "store_code": "BJ001",
            "category": "wait",
            "description": "waited too long",
            "member_id": member,
            "severity": "normal",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    url = created.headers["location"]
    page = console.client.get(url).text
    assert "open" in page and "opening minutes left" in page and "staff1" in page
    console.client.post(
        f"{url}/status", data={"csrf": console.csrf(url), "take": "1", "status": "in_progress"}
    )
    resolved = console.client.post(
        f"{url}/resolve",
        data={"csrf": console.csrf(url), "resolution": "apologised, free dessert", "callback": "1"},
    )
    assert "resolved" in resolved.text and "apologised, free dessert" in resolved.text
    due = console.client.get("/callbacks").text
    assert "after a complaint" in due and member in due


def test_language_switch(console: Console, member: str) -> None:
    console.sign_in("staff1")
    console.client.get("/lang/zh", follow_redirects=False)
    assert "前台查询" in console.client.get("/desk").text
    console.client.get("/lang/en", follow_redirects=False)
    assert "Front desk" in console.client.get("/desk").text
    redirect = console.client.get("/lang/en?next=//evil.example/", follow_redirects=False)
    assert redirect.headers["location"] == "/"


def test_every_page_has_a_strict_csp_and_no_inline_script(console: Console, member: str) -> None:
    console.sign_in("admin1")
    for path in (
        "/signin",
        "/desk",
        f"/desk/member/{member}",
        "/members",
        f"/members/{member}",
        "/dashboards",
        "/complaints",
        "/callbacks",
    ):
        response = console.client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert response.headers["x-frame-options"] == "DENY"
        for attributes in SCRIPT_TAG.findall(response.text):
            assert 'src="/static/' in attributes, path  # never inline, never remote
        assert "http://" not in response.text and "https://" not in response.text, path


def test_static_assets_are_in_the_package(console: Console) -> None:
    for name in ("console.js", "console.css", "chart.umd-4.5.1.min.js"):
        response = console.client.get(f"/static/{name}")
        assert response.status_code == 200 and len(response.content) > 500


def test_api_stays_under_v1(console: Console, api_key: Callable[..., str]) -> None:
    assert console.client.get("/v1/health").json()["status"] == "ok"
    assert console.client.get("/", follow_redirects=False).headers["location"] == "/signin"


def test_roles_outside_the_profile_readers_get_no_360(
    console: Console, member: str, api_key: Callable[..., str]
) -> None:
    console.sign_in("analyst1")
    assert console.client.get(f"/members/{member}").status_code == 403
    console.sign_in_key(api_key("pos", store="BJ001"))
    assert console.client.get(f"/members/{member}").status_code == 403
    assert console.client.get("/desk", params={"q": "13812345678"}).status_code == 403


def test_manager_card_works_without_label_access(console: Console, member: str) -> None:
    console.sign_in("manager1")
    page = console.client.get("/desk", params={"q": "13812345678"}).text
    assert 'id="card"' in page and "gold" in page


def test_admin_undoes_a_merge_from_the_360_page(
    console: Console,
    member: str,
    api_key: Callable[..., str],
    order: Callable[..., dict[str, object]],
) -> None:
    from memberops.actor import Actor
    from memberops.identity.merges import merge_by_decision
    from memberops.identity.models import MergeRecord
    from memberops.identity.service import find_member_ids

    admin = {"Authorization": f"Bearer {api_key('admin')}"}
    other_order = order("w-9", customer={"phone": "13900002222", "phone_verified": True})
    assert console.client.post("/v1/orders", json=other_order, headers=admin).status_code == 200
    runtime = console.runtime
    with transaction(runtime.sessions) as session:
        (other,) = find_member_ids(session, runtime.keyring, "13900002222")
        (record,) = merge_by_decision(
            session,
            runtime.keyring,
            member_ids=[member, other],
            actor=Actor(kind="cli", id="t", role="admin"),
            reason="same person",
        )
        merge_id, survivor = record.id, record.survivor_id
    console.sign_in("admin1")
    page_url = f"/members/{survivor}"
    assert f"/merges/{merge_id}/undo" in console.client.get(page_url).text
    forged = console.client.post(f"{page_url}/merges/{merge_id}/undo", data={"csrf": "x"})
    assert forged.status_code == 403
    console.client.post(f"{page_url}/merges/{merge_id}/undo", data={"csrf": console.csrf(page_url)})
    with transaction(runtime.sessions) as session:
        merge = session.get(MergeRecord, merge_id)
        assert merge is not None and merge.status != "active"
    console.sign_in("manager1")
    assert "/undo" not in console.client.get(page_url).text
