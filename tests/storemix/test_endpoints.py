"""GET /v1/storemix: every store for the chain's roles, their own store for managers."""

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


@pytest.mark.parametrize("role", ["admin", "marketer", "analyst"])
def test_every_store(api: Api, ids: dict[str, str], role: str) -> None:
    response = api.client.get("/v1/storemix", headers=api.auth(role))
    assert response.status_code == 200, response.text
    stores = {s["store_code"]: s for s in response.json()["stores"]}
    assert set(stores) == {"BJ001", "SH001"}
    assert stores["BJ001"]["segments"]["value"] == {"members": 1, "share": 0.5}
    assert stores["SH001"]["segments"]["premium"] == {"members": 1, "share": 0.5}
    # Two members per store: too few for advice with the default threshold.
    assert stores["BJ001"]["recommendation"]["code"] == "too_few_members"
    assert stores["BJ001"]["traits"]["family_with_children"] == {"members": 1, "share": 0.5}


def test_one_store_by_code(api: Api, ids: dict[str, str]) -> None:
    body = api.client.get("/v1/storemix?store=SH001", headers=api.auth("admin")).json()
    assert [s["store_code"] for s in body["stores"]] == ["SH001"]
    missing = api.client.get("/v1/storemix?store=XX999", headers=api.auth("admin"))
    assert missing.status_code == 404
    bad = api.client.get("/v1/storemix?store=%3Cscript%3E", headers=api.auth("admin"))
    assert bad.status_code == 422


def test_a_manager_sees_only_their_store(api: Api, ids: dict[str, str]) -> None:
    secret = api.key("manager", store_code="SH001")
    own = api.client.get("/v1/storemix", headers=api.auth(secret))
    assert own.status_code == 200
    assert [s["store_code"] for s in own.json()["stores"]] == ["SH001"]
    other = api.client.get("/v1/storemix?store=BJ001", headers=api.auth(secret))
    assert other.status_code == 403
    assert api.audit_entries(action="access.denied", secret=secret)


@pytest.mark.parametrize("role", ["pos", "staff", "member"])
def test_front_desk_roles_may_not_read_the_mix(api: Api, ids: dict[str, str], role: str) -> None:
    assert api.client.get("/v1/storemix", headers=_front(api, ids, role)).status_code == 403
