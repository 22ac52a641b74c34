"""`/v1/segments`: who may do what, pseudonymous ids for all but admins, errors that
name the column, exports without personal values."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from builders import OTHER_STORE, STORE, Api, TestClient, add_segment_member
from memberops.api.app import create_app
from memberops.api.ratelimit import DEFAULT_LIMITS, RateLimits
from memberops.db import transaction

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def members(api: Api) -> dict[str, str]:
    with transaction(api.runtime.sessions) as session:
        return {
            "regular": add_segment_member(
                session,
                visits=5,
                last_visit=NOW - timedelta(days=3),
                store_code=STORE,
                tier="gold",
                consents=("marketing",),
            ),
            "other_store": add_segment_member(
                session, visits=4, last_visit=NOW - timedelta(days=30), store_code=OTHER_STORE
            ),
            "new": add_segment_member(
                session, visits=1, last_visit=NOW - timedelta(days=1), store_code=STORE
            ),
        }


def _create(api: Api, name: str, expression: str = "visits >= 3", as_: str = "marketer") -> str:
    response = api.client.post(
        "/v1/segments", json={"name": name, "expression": expression}, headers=api.auth(as_)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_preview_counts_and_shows_pseudonymous_ids(api: Api, members: dict[str, str]) -> None:
    response = api.client.post(
        "/v1/segments/preview",
        json={"expression": "visits >= 3", "sample": 5},
        headers=api.auth("analyst"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 2
    assert body["scope"] == "chain"
    assert all(s.startswith("p_") for s in body["sample"])
    assert not set(body["sample"]) & set(members.values())


def test_manager_preview_counts_own_store_only(api: Api, members: dict[str, str]) -> None:
    key = api.key("manager", store_code=STORE)
    response = api.client.post(
        "/v1/segments/preview", json={"expression": "visits >= 1"}, headers=api.auth(key)
    )
    assert response.status_code == 200, response.text
    assert (response.json()["count"], response.json()["scope"]) == (2, "store")
    storeless = api.key("manager")
    response = api.client.post(
        "/v1/segments/preview", json={"expression": "visits >= 1"}, headers=api.auth(storeless)
    )
    assert response.status_code == 403


def test_bad_expression_is_422_naming_the_column(api: Api, members: dict[str, str]) -> None:
    response = api.client.post(
        "/v1/segments/preview",
        json={"expression": "visits >= 3 and vists < 2"},
        headers=api.auth("marketer"),
    )
    assert response.status_code == 422
    assert "column 17: unknown field 'vists' (did you mean 'visits'?)" in response.json()["message"]


@pytest.mark.parametrize("role", ["staff", "pos", "member"])
def test_front_line_roles_are_refused(api: Api, members: dict[str, str], role: str) -> None:
    scope = {"member_id": members["regular"]} if role == "member" else {"store_code": STORE}
    headers = api.auth(api.key(role, **scope))
    assert api.client.get("/v1/segments", headers=headers).status_code == 403
    assert (
        api.client.post(
            "/v1/segments/preview", json={"expression": "visits > 1"}, headers=headers
        ).status_code
        == 403
    )


@pytest.mark.parametrize("role", ["analyst", "manager"])
def test_readers_cannot_create(api: Api, role: str) -> None:
    response = api.client.post(
        "/v1/segments",
        json={"name": f"by {role}", "expression": "visits > 1"},
        headers=api.auth(role),
    )
    assert response.status_code == 403


def test_lifecycle_create_materialise_members_history_export(
    api: Api, members: dict[str, str]
) -> None:
    segment_id = _create(api, "api regulars")
    dup = api.client.post(
        "/v1/segments",
        json={"name": "api regulars", "expression": "visits > 0"},
        headers=api.auth("admin"),
    )
    assert dup.status_code == 409

    early = api.client.get(f"/v1/segments/{segment_id}/export", headers=api.auth("analyst"))
    assert early.status_code == 409

    run = api.client.post(f"/v1/segments/{segment_id}/materialise", headers=api.auth("marketer"))
    assert run.status_code == 200, run.text
    assert (run.json()["entered"], run.json()["size"]) == (2, 2)
    assert (
        api.client.post(
            f"/v1/segments/{segment_id}/materialise", headers=api.auth("analyst")
        ).status_code
        == 403
    )

    put = api.client.put(
        f"/v1/segments/{segment_id}",
        json={"expression": "visits >= 3 and home_store == 'S001'"},
        headers=api.auth("marketer"),
    )
    assert put.status_code == 200 and put.json()["version"] == 2
    run = api.client.post(f"/v1/segments/{segment_id}/materialise", headers=api.auth("admin"))
    assert (run.json()["entered"], run.json()["left"], run.json()["size"]) == (0, 1, 1)

    as_analyst = api.client.get(f"/v1/segments/{segment_id}/members", headers=api.auth("analyst"))
    assert as_analyst.status_code == 200
    assert [m["member"][:2] for m in as_analyst.json()["members"]] == ["p_"]
    as_admin = api.client.get(f"/v1/segments/{segment_id}/members", headers=api.auth("admin"))
    assert [m["member"] for m in as_admin.json()["members"]] == [members["regular"]]

    history = api.client.get(f"/v1/segments/{segment_id}/history", headers=api.auth("analyst"))
    assert [v["version"] for v in history.json()["versions"]] == [2, 1]
    assert len(history.json()["runs"]) == 2

    export = api.client.get(
        f"/v1/segments/{segment_id}/export", params={"format": "csv"}, headers=api.auth("analyst")
    )
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 1 and rows[0]["member"].startswith("p_")
    assert members["regular"] not in export.text
    parquet = api.client.get(
        f"/v1/segments/{segment_id}/export",
        params={"format": "parquet"},
        headers=api.auth("marketer"),
    )
    assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"
    bad = api.client.get(
        f"/v1/segments/{segment_id}/export", params={"format": "xlsx"}, headers=api.auth("admin")
    )
    assert bad.status_code == 422

    listed = api.client.get("/v1/segments", headers=api.auth("analyst"))
    assert any(s["id"] == segment_id and s["size"] == 1 for s in listed.json())
    assert (
        api.client.delete(f"/v1/segments/{segment_id}", headers=api.auth("marketer")).status_code
        == 204
    )
    assert (
        api.client.get(f"/v1/segments/{segment_id}", headers=api.auth("admin")).status_code == 404
    )


def test_fields_lists_built_ins_and_functions(api: Api) -> None:
    response = api.client.get("/v1/segments/fields", headers=api.auth("analyst"))
    names = {f["name"]: f for f in response.json()}
    assert names["visits"]["kind"] == "number"
    assert names["consent"]["function"] is True


def test_preview_and_materialise_have_their_own_rate_limits(
    api: Api, members: dict[str, str]
) -> None:
    preview, materialise = "POST /v1/segments/preview", "POST /v1/segments/{segment_id}/materialise"
    assert {preview, materialise} <= set(DEFAULT_LIMITS.routes)
    # The budget is keyed by the route template: a tiny one shows it is the one applied.
    limits = RateLimits(routes={preview: "2/hour"})
    with TestClient(create_app(api.runtime, rate_limits=limits)) as client:
        headers = api.auth(api.key("analyst"))
        statuses = [
            client.post(
                "/v1/segments/preview", json={"expression": "visits > 1"}, headers=headers
            ).status_code
            for _ in range(3)
        ]
        assert client.get("/v1/segments", headers=headers).status_code == 200
    assert statuses == [200, 200, 429]
