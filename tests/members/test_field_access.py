"""The role x field table of docs/api.md, one test per cell, over HTTP on SQLite and
PostgreSQL: what each role's profile read shows of each field."""

from __future__ import annotations

from typing import Any

import pytest

from builders import OTHER_STORE, STORE, Api, new_phone, order
from memberops.pipeline.runner import run_refresh

ROLES = ("admin", "member", "staff", "pos", "marketer", "analyst")
ABSENT = object()

NAME = "张三丰"
BIRTHDAY = "1990-04-01"


def _cells(roles: tuple[str, ...], value: Any) -> dict[str, Any]:
    return {role: value for role in roles}


class Subject:
    """One member with every field filled, and a key per role able to read them."""

    def __init__(self, api: Api) -> None:
        self.phone = new_phone()
        customer = {
            "phone": self.phone,
            "phone_verified": True,
            "name": NAME,
            "birthday": BIRTHDAY,
            "gender": "female",
        }
        created = api.post_orders(order(phone=self.phone, customer=customer))
        assert created.status_code == 200, created.text
        self.id = api.member_id_for(self.phone)
        self.national = self.phone.replace("+86", "").replace(" ", "")
        self.reads: dict[str, Any] = {}
        self.secrets = {
            "admin": api.key("admin"),
            "member": api.key("member", member_id=self.id),
            "staff": api.key("staff", store_code=STORE),
            "pos": api.key("pos", store_code=STORE),
            "marketer": api.key("marketer"),
            "analyst": api.key("analyst"),
        }
        grant = {
            "purpose": "sensitive_data",
            "granted": True,
            "channel": "app",
            "notice_version": "2025-01",
        }
        own = api.auth(self.secrets["member"])
        consent = api.client.post(f"/v1/members/{self.id}/consents", json=grant, headers=own)
        assert consent.status_code == 200, consent.text
        for text in ("high chair", "peanut allergy"):
            label = {"category": "service_need", "text": text, "reason": "guest asked"}
            written = api.client.post(
                f"/v1/members/{self.id}/labels",
                json=label,
                headers=api.auth(self.secrets["staff"]),
            )
            assert written.status_code == 201, written.text
        # The 360 pipeline computes the transaction group and the favourite dishes.
        run_refresh(api.runtime, full=True)

    def read(self, api: Api, role: str) -> Any:
        """The role's profile read, made once per role (a key's rate limit is per second)."""
        if role not in self.reads:
            self.reads[role] = api.client.get(
                f"/v1/members/{self.id}", headers=api.auth(self.secrets[role])
            )
        return self.reads[role]

    def expected(self, field: str, role: str) -> Any:
        """The cell of the table in docs/api.md (written out here, not read from code)."""
        self_admin = role in ("admin", "member")
        masked_phone = f"{self.national[:3]}****{self.national[-4:]}"
        table: dict[str, dict[str, Any]] = {
            "id": {
                "admin": self.id,
                "member": self.id,
                "staff": self.id,
                "marketer": "p_",
                "analyst": "p_",
            },
            "basic.name": {"admin": NAME, "member": NAME},
            "basic.display_name": {"admin": NAME, "member": NAME, "staff": "张**"},
            "basic.birthday": {"admin": BIRTHDAY, "member": BIRTHDAY, "staff": "04-01"},
            "basic.gender": {"admin": "female", "member": "female"},
            "phone": {
                "admin": "+86" + self.national,
                "member": "+86" + self.national,
                "staff": masked_phone,
            },
            # Everyone starts on the default ladder's first tier.
            "membership.tier": _cells(("admin", "member", "staff", "marketer", "analyst"), "red"),
            "membership.discount_bp": _cells(("admin", "member", "staff"), None),
            "favourite_dishes": _cells(("admin", "member", "staff"), "present"),
            "transaction": _cells(("admin", "member", "marketer", "analyst"), "present"),
            "service_needs": _cells(("admin", "member", "staff"), ["high chair"]),
            "sensitive_needs": _cells(("admin", "member", "staff"), ["peanut allergy"]),
            "consents": {},
        }
        if field == "consents":
            return "present" if self_admin else ABSENT
        return table[field].get(role, ABSENT)


FIELDS = (
    "id",
    "basic.name",
    "basic.display_name",
    "basic.birthday",
    "basic.gender",
    "phone",
    "membership.tier",
    "membership.discount_bp",
    "favourite_dishes",
    "transaction",
    "service_needs",
    "sensitive_needs",
    "consents",
)


@pytest.fixture(scope="module")
def subject(api: Api) -> Subject:
    return Subject(api)


def _shown(body: dict[str, Any], field: str) -> Any:
    group, _, key = field.partition(".")
    if group not in body:
        return ABSENT
    if not key:
        return body[group]
    return body[group].get(key, ABSENT)


def _texts(value: Any) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "text" in value[0]:
        return [item["text"] for item in value]
    return value


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("role", ROLES)
def test_role_sees_field_as_the_table_says(
    api: Api, subject: Subject, role: str, field: str
) -> None:
    response = api.client.get(f"/v1/members/{subject.id}", headers=api.auth(subject.secrets[role]))
    if role == "pos":  # a till has no profile route at all
        assert response.status_code == 403
        assert NAME not in response.text
        return
    assert response.status_code == 200, response.text
    expected = subject.expected(field, role)
    shown = _texts(_shown(response.json(), field))
    if expected is ABSENT:
        assert shown is ABSENT, f"{role} must not see {field}"
    elif expected == "p_":
        assert isinstance(shown, str) and shown.startswith("p_") and shown != subject.id
    elif expected == "present":
        assert shown is not ABSENT and shown, f"{role} must see {field}"
    else:
        assert shown == expected
    # Never a name, phone digits or a birth year outside admin and the member.
    if role not in ("admin", "member"):
        assert NAME not in response.text
        assert subject.national not in response.text
        assert "1990" not in response.text


def test_staff_lose_sensitive_needs_when_consent_is_withdrawn(api: Api) -> None:
    other = Subject(api)
    withdraw = {
        "purpose": "sensitive_data",
        "granted": False,
        "channel": "app",
        "notice_version": "2025-01",
    }
    own = api.auth(other.secrets["member"])
    assert (
        api.client.post(f"/v1/members/{other.id}/consents", json=withdraw, headers=own)
    ).status_code == 200
    staff = api.client.get(f"/v1/members/{other.id}", headers=api.auth(other.secrets["staff"]))
    assert staff.json()["sensitive_needs"] == []
    assert "peanut" not in staff.text
    mine = api.client.get(f"/v1/members/{other.id}", headers=own)
    assert [n["text"] for n in mine.json()["sensitive_needs"]] == ["peanut allergy"]


def test_pos_lookup_has_only_what_a_checkout_quote_needs(api: Api, subject: Subject) -> None:
    pos = api.auth(subject.secrets["pos"])
    response = api.client.get("/v1/members", params={"query": subject.phone}, headers=pos)
    assert response.status_code == 200
    (match,) = response.json()["members"]
    assert match["id"] == subject.id
    assert match["phone"] is None
    assert "discount_bp" in match
    labels = api.client.get(f"/v1/members/{subject.id}/labels", headers=pos)
    assert labels.status_code == 403
    assert "peanut" not in labels.text


def test_staff_reading_a_member_who_never_visited_their_store_is_audited(
    api: Api, subject: Subject
) -> None:
    elsewhere = api.key("staff", store_code=OTHER_STORE)
    at_home = subject.secrets["staff"]
    for secret in (elsewhere, at_home):
        response = api.client.get(
            f"/v1/members/{subject.id}",
            params={"reason": "guest asked by phone"},
            headers=api.auth(secret),
        )
        assert response.status_code == 200
    (outside,) = api.audit_entries(action="member.read", secret=elsewhere)
    assert outside.member_id == subject.id
    assert f"no visit to {OTHER_STORE}" in (outside.reason or "")
    assert "guest asked by phone" in (outside.reason or "")
    home_reads = api.audit_entries(action="member.read", secret=at_home)
    assert home_reads and all("no visit" not in (e.reason or "") for e in home_reads)
