"""GET /v1/fans and /v1/fans/communicators: who may read them and what they show."""

from __future__ import annotations

import pytest

from builders import Api, prepare_analytics
from memberops.actor import Actor

ADMIN = Actor(kind="cli", id="tester", role="admin")


def _front(api: Api, ids: dict[str, str], role: str) -> dict[str, str]:
    """Headers of a front-desk key (a member key acts for member A)."""
    if role == "member":
        return api.auth(api.key("member", member_id=ids["A"]))
    return api.auth(role)


@pytest.fixture(scope="module")
def ids(api: Api) -> dict[str, str]:
    return prepare_analytics(api.runtime, ADMIN)


@pytest.mark.parametrize("role", ["admin", "manager", "marketer", "analyst"])
def test_levels_for_back_office_roles(api: Api, ids: dict[str, str], role: str) -> None:
    response = api.client.get("/v1/fans", headers=api.auth(role))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["levels"] == {"hardcore": 1, "general": 2, "silent": 1}
    assert body["members"] == 4
    assert body["thresholds"]["window_days"] == 90


@pytest.mark.parametrize("role", ["pos", "staff", "member"])
def test_front_desk_roles_may_not_read_fans(api: Api, ids: dict[str, str], role: str) -> None:
    for path in ("/v1/fans", "/v1/fans/communicators"):
        assert api.client.get(path, headers=_front(api, ids, role)).status_code == 403


def test_communicators_show_ids_to_admins_only(api: Api, ids: dict[str, str]) -> None:
    admin = api.client.get("/v1/fans/communicators", headers=api.auth("admin")).json()
    assert [c["member"] for c in admin["communicators"]] == [ids["A"], ids["B"], ids["C"]]
    top = admin["communicators"][0]
    assert (top["referred_members"], top["referred_revenue_cents"]) == (1, 15_000)
    assert top["communication_score"] == 18.5
    for role in ("marketer", "analyst"):
        body = api.client.get("/v1/fans/communicators", headers=api.auth(role)).json()
        members = [c["member"] for c in body["communicators"]]
        assert len(members) == 3
        assert all(m.startswith("p_") for m in members)
        assert not set(members) & set(ids.values())
        assert [c["communication_score"] for c in body["communicators"]] == [18.5, 5.0, 3.0]


def test_managers_do_not_get_the_member_list(api: Api, ids: dict[str, str]) -> None:
    assert api.client.get("/v1/fans/communicators", headers=api.auth("manager")).status_code == 403


def test_bad_limit_names_the_field(api: Api, ids: dict[str, str]) -> None:
    response = api.client.get("/v1/fans/communicators?limit=0", headers=api.auth("admin"))
    assert response.status_code == 422
    assert "limit" in response.text
