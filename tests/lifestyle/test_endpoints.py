"""GET /v1/lifestyle: members per trait for back-office roles."""

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
def test_members_per_trait(api: Api, ids: dict[str, str], role: str) -> None:
    response = api.client.get("/v1/lifestyle", headers=api.auth(role))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["members_scored"] == 4
    traits = {t["trait"]: (t["members"], t["share"]) for t in body["traits"]}
    assert traits == {
        "family_with_children": (1, 0.25),
        "health_conscious": (1, 0.25),
        "meat_lover": (1, 0.25),
        "premium": (1, 0.25),
        "seafood_lover": (1, 0.25),
    }
    assert not set(response.text.split('"')) & set(ids.values())


@pytest.mark.parametrize("role", ["pos", "staff", "member"])
def test_front_desk_roles_may_not_read_lifestyles(api: Api, ids: dict[str, str], role: str) -> None:
    assert api.client.get("/v1/lifestyle", headers=_front(api, ids, role)).status_code == 403
