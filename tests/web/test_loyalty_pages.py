"""Console loyalty pages and the dashboard registry over HTTP: the tier policy (validate,
simulate, activate), adjustments with a second person's approval, statements,
dashboards from the database and from /v1 JSON, and a manager's store scope."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.demo.cli import run_member_analytics
from memberops.loyalty.approvals import AdjustmentRequest
from memberops.loyalty.models import LoyaltyEntry, TierPolicyDoc
from memberops.loyalty.rules import DEFAULT_POLICY_TOML
from memberops.pipeline.runner import run_refresh
from memberops.privacy import audit
from memberops.web.auth import create_staff_account
from memberops.web.dashboards import (
    REGISTRY,
    cohort_retention,
    concentration_curve,
    lifecycle_flows,
    rfm_grid,
    rows_from_json,
    store_segments,
)
from web.helpers import PASSWORD, Console

NEW_CHARTS = (
    "rfm_segments",
    "rfm_grid",
    "concentration",
    "gini",
    "lifecycle",
    "lifecycle_flows",
    "cohorts",
    "fans",
    "lifestyle",
    "storemix",
)
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


# ---------------------------------------------------------------------------- analyses
AS_OF = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)


@pytest.fixture
def analysed(
    console: Console, member: str, api_key: Callable[..., str], order: Callable[..., object]
) -> Iterator[Console]:
    """Three members (two at BJ001, one at SH001) with profiles, RFM, concentration,
    lifecycle, fan levels and lifestyle traits run over them as `memberops demo` runs
    them, on 2026-06-15."""
    admin = {"Authorization": f"Bearer {api_key('admin')}"}
    for n, (store, at) in enumerate(
        [("BJ001", "2026-04-02T12:00:00+08:00"), ("SH001", "2026-05-03T19:00:00+08:00")]
    ):
        customer = {"phone": f"1390000000{n}", "phone_verified": True}
        body = order(f"a-{n}", store=store, at=at, customer=customer)
        response = console.client.post("/v1/orders", json=body, headers=admin)
        assert response.status_code == 200, response.text
    with use_clock(FixedClock(AS_OF)):
        run_refresh(console.runtime, full=True)
        run_member_analytics(console.runtime)
        yield console


def csv_rows(console: Console, chart: str) -> list[str]:
    response = console.client.get(f"/dashboards/{chart}.csv")
    assert response.status_code == 200, (chart, response.text)
    assert response.headers["content-type"].startswith("text/csv")
    return response.text.splitlines()


def test_analysis_charts_show_tables_and_csv(analysed: Console) -> None:
    console = analysed
    console.sign_in("admin1")
    en(console)
    page = console.client.get("/dashboards").text
    for chart in NEW_CHARTS:
        assert f'id="chart-{chart}"' in page and f'href="/dashboards/{chart}.csv"' in page, chart
    assert "Revenue concentration (80/20 curve)" in page
    assert '<th scope="col">share of revenue</th>' in page
    # A: 252 yuan over two visits (Feb, Mar, BJ001), B: 164 (Apr, BJ001), C: 164 (May, SH001).
    assert csv_rows(console, "rfm_segments") == [
        "segment,share_of_members,share_of_spend",
        "champions,0.0,0.0",
        "loyal,0.0,0.0",
        "potential loyalists,0.0,0.0",
        "new,0.3333,0.2828",
        "at risk,0.0,0.0",
        "can't lose,0.3333,0.4345",
        "hibernating,0.3333,0.2828",
        "lost,0.0,0.0",
    ]
    assert csv_rows(console, "rfm_grid") == [
        "recency,F1,F2,F3,F4,F5",
        "R1,0,0,0,1,0",
        "R2,1,0,0,0,0",
        "R3,0,0,0,0,0",
        "R4,1,0,0,0,0",
        "R5,0,0,0,0,0",
    ]
    curve = csv_rows(console, "concentration")
    assert curve[0] == "percent_of_members,share_of_revenue" and len(curve) == 1 + 21
    assert {"1,0.4345", "35,0.7172", "100,1.0"} <= set(curve)
    assert csv_rows(console, "gini") == ["measure,figure", "gini,0.1011", "top20_share,0.4345"]
    assert csv_rows(console, "lifecycle") == [
        "state,members",
        "new,0",
        "active,1",
        "reactivated,0",
        "at risk,2",
        "lapsed,0",
    ]
    assert csv_rows(console, "lifecycle_flows") == [
        "month,new,active,reactivated,at risk,lapsed",
        "2026-02,1,0,0,0,0",
        "2026-03,0,1,0,0,0",
        "2026-04,1,0,0,0,0",
        "2026-05,1,1,0,1,0",
        "2026-06,0,1,0,1,0",
    ]
    assert csv_rows(console, "cohorts") == [
        "months_after,retention",
        "0,1.0",
        "1,0.3333",  # only A of the three came back the month after
        "2,0.0",
        "3,0.0",
        "4,0.0",
    ]
    assert csv_rows(console, "fans") == ["level,members", "hardcore,0", "general,2", "silent,1"]
    assert csv_rows(console, "lifestyle") == ["trait,members", "meat_lover,2"]
    assert csv_rows(console, "storemix") == [
        "store,premium,mainstream,value",
        "BJ001,0,1,1",
        "SH001,0,1,0",
    ]


def test_a_manager_sees_analyses_as_the_api_scopes_them(analysed: Console) -> None:
    console = analysed
    console.sign_in("manager1")  # BJ001: members A and B
    page = console.client.get("/dashboards").text
    assert 'id="chart-lifecycle"' in page  # lifecycle is chain-wide for managers
    grid = csv_rows(console, "rfm_grid")[1:]
    assert sum(int(n) for row in grid for n in row.split(",")[1:]) == 2
    assert csv_rows(console, "gini") == ["measure,figure", "gini,0.1058", "top20_share,0.6058"]
    assert csv_rows(console, "storemix") == ["store,premium,mainstream,value", "BJ001,0,1,1"]


def test_analysis_charts_stay_out_before_any_run(console: Console, member: str) -> None:
    console.sign_in("admin1")
    page = console.client.get("/dashboards").text
    for chart in ("rfm_segments", "rfm_grid", "concentration", "gini", "lifecycle", "cohorts"):
        assert f'id="chart-{chart}"' not in page, chart


@pytest.mark.parametrize(
    ("shape", "value", "expected"),
    [
        (
            rfm_grid,
            {"r": [1, 2, 3], "f": [1, 2, 3], "members": [[1, 0, 2], [0, 0, 0], [3, 1, 0]]},
            (["recency", "F1", "F2", "F3"], [["R1", 1, 0, 2], ["R2", 0, 0, 0], ["R3", 3, 1, 0]]),
        ),
        (rfm_grid, None, ([], [])),
        (
            lifecycle_flows,
            {
                "states": ["none", "new", "active"],
                "flows": [
                    {"month": "2026-02", "from_state": "none", "to_state": "new", "members": 4},
                    {"month": "2026-03", "from_state": "new", "to_state": "active", "members": 3},
                    {
                        "month": "2026-03",
                        "from_state": "active",
                        "to_state": "active",
                        "members": 9,
                    },
                ],
            },
            (["month", "new", "active"], [["2026-02", 4, 0], ["2026-03", 0, 3]]),
        ),
        (
            cohort_retention,
            [
                {"size": 4, "retention": [{"k": 0, "members": 4}, {"k": 1, "members": 1}]},
                {"size": 2, "retention": [{"k": 0, "members": 2}]},
            ],
            (["months_after", "retention"], [[0, 1.0], [1, 0.25]]),
        ),
        (cohort_retention, [], (["months_after", "retention"], [])),
        (
            concentration_curve,
            [{"percent_of_members": p, "share_of_revenue": p / 100} for p in range(1, 101)],
            (
                ["percent_of_members", "share_of_revenue"],
                [[1, 0.01], *([p, p / 100] for p in range(5, 101, 5))],
            ),
        ),
        (
            store_segments,
            [{"store_code": "BJ001", "segments": {"premium": {"members": 2}, "value": {}}}],
            (["store", "premium", "value"], [["BJ001", 2, 0]]),
        ),
    ],
)
def test_shapes_turn_answers_into_tables(
    shape: Callable[[object], object], value: object, expected: object
) -> None:
    assert shape(value) == expected
