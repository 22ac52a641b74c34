"""Console loyalty pages and the dashboard registry over HTTP: the tier policy (validate,
simulate, activate), adjustments with a second person's approval, statements,
dashboards from the database and from /v1 JSON, and a manager's store scope."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from memberops.db import transaction
from memberops.loyalty.approvals import AdjustmentRequest
from memberops.loyalty.models import LoyaltyEntry, TierPolicyDoc
from memberops.loyalty.rules import DEFAULT_POLICY_TOML
from memberops.privacy import audit
from memberops.web.auth import create_staff_account
from memberops.web.dashboards import REGISTRY, rows_from_json
from web.helpers import PASSWORD, Console

BROKEN = DEFAULT_POLICY_TOML.replace('code = "silver"', "code = 7", 1)


def en(console: Console) -> None:
    console.client.get("/lang/en", follow_redirects=False)


def post(console: Console, path: str, data: dict[str, str], page: str = "/desk") -> object:
    return console.client.post(
        path, data={"csrf": console.csrf(page), **data}, follow_redirects=False
    )


# ---------------------------------------------------------------------------- policy
def test_policy_page_is_for_admins_only(console: Console) -> None:
    console.sign_in("manager1")
    assert console.client.get("/loyalty/policy").status_code == 403
    console.sign_in("admin1")
    en(console)
    page = console.client.get("/loyalty/policy").text
    assert "Active policy (version 0)" in page and 'id="policy-history"' in page


def test_validate_names_the_line_and_the_field(console: Console) -> None:
    console.sign_in("admin1")
    en(console)
    assert 'code = "silver"' in DEFAULT_POLICY_TOML
    response = post(console, "/loyalty/policy/validate", {"document": BROKEN})
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.text  # type: ignore[attr-defined]
    line = 1 + DEFAULT_POLICY_TOML[: DEFAULT_POLICY_TOML.index('code = "silver"')].count("\n")
    record = re.search(r'id="err-record">([^<]+)<', page)
    field = re.search(r'id="err-field">([^<]+)<', page)
    assert record and field
    assert record.group(1) == f"policy line {line}"
    assert "code" in field.group(1)


def test_uploaded_draft_is_validated(console: Console) -> None:
    console.sign_in("admin1")
    en(console)
    response = console.client.post(
        "/loyalty/policy/validate",
        data={"csrf": console.csrf(), "document": ""},
        files={"upload": ("policy.toml", DEFAULT_POLICY_TOML.encode(), "text/plain")},
    )
    assert response.status_code == 200
    assert 'id="policy-ok"' in response.text and "Activate this policy" in response.text


def test_simulate_draws_moves_and_downloads_csv(console: Console, member: str) -> None:
    console.sign_in("admin1")
    en(console)
    easier = DEFAULT_POLICY_TOML.replace("Black Sea", "Deep Sea")
    response = post(console, "/loyalty/policy/simulate", {"document": easier})
    assert response.status_code == 200  # type: ignore[attr-defined]
    page = response.text  # type: ignore[attr-defined]
    assert 'id="simulation"' in page and 'id="sim-tiers"' in page and 'id="sim-moves"' in page
    assert 'data-chart="bar"' in page
    csv = post(console, "/loyalty/policy/simulation.csv", {"document": easier, "kind": "moves"})
    assert csv.status_code == 200  # type: ignore[attr-defined]
    assert csv.text.splitlines()[0] == "from,to,direction,members"  # type: ignore[attr-defined]
    members = post(
        console, "/loyalty/policy/simulation.csv", {"document": easier, "kind": "members"}
    )
    assert members.text.startswith("member_id,active,proposed")  # type: ignore[attr-defined]


def test_activation_needs_the_confirmation(console: Console) -> None:
    console.sign_in("admin1")
    en(console)
    draft = DEFAULT_POLICY_TOML.replace("Black Sea", "Deep Sea")
    refused = post(console, "/loyalty/policy/activate", {"document": draft})
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "tick the confirmation" in refused.text  # type: ignore[attr-defined]
    done = post(console, "/loyalty/policy/activate", {"document": draft, "confirm": "yes"})
    assert done.status_code == 303  # type: ignore[attr-defined]
    with transaction(console.runtime.sessions) as session:
        active = session.scalar(select(TierPolicyDoc).where(TierPolicyDoc.status == "active"))
        assert active is not None and "Deep Sea" in active.document
        actions = [e.action for e in audit.list_entries(session, limit=50)]
    assert "loyalty.policy_activate" in actions


# ---------------------------------------------------------------------------- adjustments
def _second_admin(console: Console) -> None:
    with transaction(console.runtime.sessions) as session:
        create_staff_account(session, username="admin2", password=PASSWORD, role="admin")


def _requests(console: Console) -> list[AdjustmentRequest]:
    with transaction(console.runtime.sessions) as session:
        rows = session.scalars(select(AdjustmentRequest)).all()
        session.expunge_all()
        return list(rows)


def _adjust_entries(console: Console, member: str) -> list[int]:
    with transaction(console.runtime.sessions) as session:
        return list(
            session.scalars(
                select(LoyaltyEntry.points).where(
                    LoyaltyEntry.member_id == member, LoyaltyEntry.type == "adjust"
                )
            )
        )


def test_small_adjustment_posts_at_once(console: Console, member: str) -> None:
    console.sign_in("admin1")
    response = post(
        console,
        "/loyalty/adjustments",
        {"member_id": member, "points": "120", "reason": "goodwill after a late dish"},
    )
    assert response.headers["location"] == "/loyalty/adjustments?done=posted"  # type: ignore[attr-defined]
    assert _adjust_entries(console, member) == [120]


def test_large_adjustment_needs_a_second_person(console: Console, member: str) -> None:
    _second_admin(console)
    console.sign_in("admin1")
    en(console)
    response = post(
        console,
        "/loyalty/adjustments",
        {"member_id": member, "points": "5000", "reason": "lost receipts, March"},
    )
    assert response.headers["location"].endswith("done=pending")  # type: ignore[attr-defined]
    assert _adjust_entries(console, member) == []
    (request,) = _requests(console)
    assert request.status == "pending"
    page = console.client.get("/loyalty/adjustments").text
    assert f'id="req-{request.id}"' in page and "another person decides" in page
    own = post(console, f"/loyalty/adjustments/{request.id}/approve", {})
    assert own.status_code == 403  # type: ignore[attr-defined]
    assert _adjust_entries(console, member) == []
    with transaction(console.runtime.sessions) as session:
        denied = [e for e in audit.list_entries(session, member_id=member) if e.outcome == "denied"]
    assert [e.action for e in denied] == ["loyalty.adjust_approve"]

    console.sign_in("admin2")
    approved = post(console, f"/loyalty/adjustments/{request.id}/approve", {})
    assert approved.status_code == 303  # type: ignore[attr-defined]
    assert _adjust_entries(console, member) == [5000]
    (request,) = _requests(console)
    assert request.status == "approved" and request.entry_id is not None
    again = post(console, f"/loyalty/adjustments/{request.id}/approve", {})
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert _adjust_entries(console, member) == [5000]


def test_rejected_adjustment_posts_nothing(console: Console, member: str) -> None:
    console.sign_in("manager1")  # the member visited BJ001, the manager's store
    response = post(
        console, "/loyalty/adjustments", {"member_id": member, "points": "-900", "reason": "dup"}
    )
    assert response.headers["location"].endswith("done=pending")  # type: ignore[attr-defined]
    (request,) = _requests(console)
    console.sign_in("admin1")
    assert post(console, f"/loyalty/adjustments/{request.id}/reject", {}).status_code == 303  # type: ignore[attr-defined]
    assert _requests(console)[0].status == "rejected"
    assert _adjust_entries(console, member) == []


def test_adjustment_without_reason_is_refused(console: Console, member: str) -> None:
    console.sign_in("admin1")
    response = post(
        console, "/loyalty/adjustments", {"member_id": member, "points": "10", "reason": "  "}
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "reason" in response.text  # type: ignore[attr-defined]


def test_staff_cannot_adjust(console: Console, member: str) -> None:
    console.sign_in("staff1")
    assert console.client.get("/loyalty/adjustments").status_code == 403
    response = post(
        console, "/loyalty/adjustments", {"member_id": member, "points": "10", "reason": "x"}
    )
    assert response.status_code == 403  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- statements
def test_statement_shows_opening_movements_closing(console: Console, member: str) -> None:
    console.sign_in("admin1")
    post(console, "/loyalty/adjustments", {"member_id": member, "points": "75", "reason": "gift"})
    en(console)
    page = console.client.get(f"/members/{member}/statement").text
    assert 'id="statement"' in page and "Opening balance" in page and "adjusted" in page
    assert "+75" in page
    bad = console.client.get(f"/members/{member}/statement", params={"from": "March"})
    assert bad.status_code == 422 and "from" in bad.text
    console.sign_in("analyst1")
    assert console.client.get(f"/members/{member}/statement").status_code == 403


# ---------------------------------------------------------------------------- dashboards
def test_registry_ids_are_unique_and_titled_in_both_languages() -> None:
    from memberops.web.i18n import catalogue

    ids = [d.id for d in REGISTRY]
    assert len(ids) == len(set(ids))
    for entry in REGISTRY:
        assert (entry.data_url is None) != (entry.load is None), entry.id
        for lang in ("en", "zh"):
            assert entry.title_key in catalogue(lang), (lang, entry.title_key)


@pytest.mark.parametrize(
    ("payload", "rows_at", "expected"),
    [
        ({"a": {"b": [{"x": "p", "n": 2}]}}, "a.b", [["p", 2]]),
        ({"counts": {"due": 3, "ok": 1}}, "counts", [["due", 3], ["ok", 1]]),
        ([["p", 1]], "", [["p", 1]]),
        ({"rules": [{"x": ["a", "b"], "n": 0.123456}]}, "rules", [["a + b", 0.1235]]),
        ({"missing": 1}, "rules", []),
    ],
)
def test_rows_from_json(payload: object, rows_at: str, expected: list[list[object]]) -> None:
    assert rows_from_json(payload, rows_at, ("x", "n")) == expected


def test_dashboards_read_v1_json_as_the_signed_in_person(console: Console, member: str) -> None:
    console.sign_in("admin1")
    en(console)
    page = console.client.get("/dashboards").text
    assert 'id="chart-tiers"' in page
    assert 'id="chart-cycles"' in page  # from /v1/analytics/cycles/due, in-process
    assert "Visit cycles: members by status" in page
    csv = console.client.get("/dashboards/cycles.csv")
    assert csv.status_code == 200 and csv.text.splitlines()[0] == "status,members"
    assert console.client.get("/dashboards/nothing.csv").status_code == 404


def test_a_manager_sees_only_what_the_api_lets_them(console: Console, member: str) -> None:
    console.sign_in("manager1")
    page = console.client.get("/dashboards").text
    assert 'id="chart-tiers"' in page
    assert 'id="chart-cycles"' not in page  # /v1/analytics is admin/marketer/analyst only


# ---------------------------------------------------------------------------- store scope
def test_manager_opens_members_of_their_store_only(
    console: Console, member: str, order: object
) -> None:
    console.sign_in("manager1")
    assert console.client.get(f"/members/{member}").status_code == 200
    admin_key = None
    from memberops.apikeys.service import create_api_key

    with transaction(console.runtime.sessions) as session:
        _row, admin_key = create_api_key(session, name="a", role="admin")
    other = order(  # type: ignore[operator]
        "sh-1",
        store="SH001",
        customer={"phone": "13900001111", "phone_verified": True},
    )
    response = console.client.post(
        "/v1/orders", json=other, headers={"Authorization": f"Bearer {admin_key}"}
    )
    assert response.status_code == 200, response.text
    from memberops.identity.service import find_member_ids

    with transaction(console.runtime.sessions) as session:
        (outsider,) = find_member_ids(session, console.runtime.keyring, "13900001111")
    refused = console.client.get(f"/members/{outsider}")
    assert refused.status_code == 404
    with transaction(console.runtime.sessions) as session:
        entries = audit.list_entries(session, member_id=outsider)
    assert any(e.action == "access.denied" and e.outcome == "denied" for e in entries)


def test_members_list_filters_by_tier_and_store(console: Console, member: str) -> None:
    console.sign_in("admin1")
    page = console.client.get("/members", params={"tier": "gold", "store": "BJ001"}).text
    assert '<option value="gold" selected>' in page and '<option value="BJ001" selected>' in page
    assert member in page
    assert member not in console.client.get("/members", params={"tier": "silver"}).text
