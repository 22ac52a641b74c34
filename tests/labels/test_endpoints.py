"""The label routes over HTTP: staff write, member transparency, dispute and delete."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.db import new_id, transaction
from memberops.labels.endpoints import router
from memberops.labels.models import Label
from memberops.members.models import Member
from memberops.privacy import audit
from memberops.privacy.consent import record_consent
from memberops.runtime import Runtime

with warnings.catch_warnings():
    # Starlette asks for httpx2 with a UserWarning subclass, which the project's
    # DeprecationWarning filter does not catch; the httpx client works the same.
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app: FastAPI = create_app(runtime)
    app.include_router(router)
    with TestClient(app) as test_client:
        yield test_client


def add_member(runtime: Runtime) -> str:
    with transaction(runtime.sessions) as session:
        member = Member(id=new_id())
        session.add(member)
        session.flush()
        return member.id


def key(runtime: Runtime, role: str, *, member_id: str | None = None) -> dict[str, str]:
    with transaction(runtime.sessions) as session:
        _, secret = create_api_key(
            session,
            name=f"{role} key",
            role=role,
            member_id=member_id,
            store_code="BJ01" if role in ("staff", "pos") else None,
            staff_id="w-17" if role == "staff" else None,
        )
    return {"Authorization": f"Bearer {secret}"}


def grant_sensitive(runtime: Runtime, member_id: str) -> None:
    from memberops.actor import system_actor

    with transaction(runtime.sessions) as session:
        record_consent(
            session,
            member_id=member_id,
            purpose="sensitive_data",
            granted=True,
            channel="app",
            source="settings",
            notice_version="2025-01",
            actor=system_actor("test"),
        )


def actions(runtime: Runtime, member_id: str) -> list[str]:
    with transaction(runtime.sessions) as session:
        return [e.action for e in audit.list_entries(session, member_id=member_id)]


def note(category: str = "service_need", text: str = "no onions") -> dict[str, str]:
    return {"category": category, "text": text, "reason": "guest asked at the table"}


def test_staff_writes_a_dining_need(runtime: Runtime, client: TestClient) -> None:
    member_id = add_member(runtime)
    response = client.post(
        f"/v1/members/{member_id}/labels", json=note(), headers=key(runtime, "staff")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source"] == "staff" and body["status"] == "active"
    assert "text" not in body
    with transaction(runtime.sessions) as session:
        label = session.get(Label, body["id"])
        assert label is not None and label.store_code == "BJ01" and label.staff_id == "w-17"
    assert "labels.write" in actions(runtime, member_id)


def test_rejected_note_is_422_with_reasons_and_categories_and_not_stored(
    runtime: Runtime, client: TestClient
) -> None:
    member_id = add_member(runtime)
    text = "round face, glasses, about 25"
    response = client.post(
        f"/v1/members/{member_id}/labels",
        json=note(text=text),
        headers=key(runtime, "staff"),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    assert "rejected by the label guard" in body["message"]
    assert "appearance" in body["message"]
    assert text not in response.text and "about 25" not in response.text
    with transaction(runtime.sessions) as session:
        assert session.scalars(select(Label).where(Label.member_id == member_id)).all() == []
    # The refused attempt itself is on the record.
    with transaction(runtime.sessions) as session:
        (entry,) = audit.list_entries(session, member_id=member_id, actions=["labels.write"])
        assert entry.outcome == "refused"


def test_sensitive_without_consent_is_409_naming_the_consent(
    runtime: Runtime, client: TestClient
) -> None:
    member_id = add_member(runtime)
    response = client.post(
        f"/v1/members/{member_id}/labels",
        json=note(text="peanut allergy"),
        headers=key(runtime, "pos"),
    )
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "consent_required"
    assert "sensitive_data" in body["message"]


def test_sensitive_with_consent_is_stored_and_hidden_from_marketer(
    runtime: Runtime, client: TestClient
) -> None:
    member_id = add_member(runtime)
    grant_sensitive(runtime, member_id)
    staff = key(runtime, "staff")
    created = client.post(
        f"/v1/members/{member_id}/labels", json=note(text="peanut allergy"), headers=staff
    )
    assert created.status_code == 201, created.text
    assert created.json()["sensitive"] is True
    assert created.json()["consent_id"]

    seen_by_staff = client.get(f"/v1/members/{member_id}/labels", headers=staff)
    assert [i["text"] for i in seen_by_staff.json()] == ["peanut allergy"]
    seen_by_marketer = client.get(
        f"/v1/members/{member_id}/labels", headers=key(runtime, "marketer")
    )
    assert seen_by_marketer.status_code == 200
    assert seen_by_marketer.json() == []
    analyst = client.get(f"/v1/members/{member_id}/labels", headers=key(runtime, "analyst"))
    assert analyst.status_code == 403


def test_member_sees_own_labels_and_not_anyone_elses(runtime: Runtime, client: TestClient) -> None:
    member_id, other_id = add_member(runtime), add_member(runtime)
    staff = key(runtime, "staff")
    client.post(f"/v1/members/{member_id}/labels", json=note(), headers=staff)
    client.post(f"/v1/members/{other_id}/labels", json=note(), headers=staff)
    mine = key(runtime, "member", member_id=member_id)

    own = client.get(f"/v1/members/{member_id}/labels", headers=mine)
    assert own.status_code == 200
    (item,) = own.json()
    assert item["source"] == "staff"
    assert item["text"] == "no onions"
    assert item["provenance"]["store_code"] == "BJ01"
    assert item["provenance"]["reason"] == "guest asked at the table"

    theirs = client.get(f"/v1/members/{other_id}/labels", headers=mine)
    assert theirs.status_code == 404
    assert "access.denied" in actions(runtime, other_id)


def test_staff_read_is_audited(runtime: Runtime, client: TestClient) -> None:
    member_id = add_member(runtime)
    response = client.get(f"/v1/members/{member_id}/labels", headers=key(runtime, "staff"))
    assert response.status_code == 200
    assert "labels.read" in actions(runtime, member_id)


def test_member_disputes_a_label(runtime: Runtime, client: TestClient) -> None:
    member_id = add_member(runtime)
    label_id = client.post(
        f"/v1/members/{member_id}/labels", json=note(), headers=key(runtime, "staff")
    ).json()["id"]
    mine = key(runtime, "member", member_id=member_id)
    response = client.post(
        f"/v1/members/{member_id}/labels/{label_id}/dispute",
        json={"reason": "I love onions"},
        headers=mine,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disputed"
    assert "labels.dispute" in actions(runtime, member_id)


def test_member_deletes_a_label_and_its_text_is_gone(runtime: Runtime, client: TestClient) -> None:
    member_id = add_member(runtime)
    label_id = client.post(
        f"/v1/members/{member_id}/labels", json=note(), headers=key(runtime, "staff")
    ).json()["id"]
    response = client.delete(
        f"/v1/members/{member_id}/labels/{label_id}",
        headers=key(runtime, "member", member_id=member_id),
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "deleted"
    with transaction(runtime.sessions) as session:
        label = session.get(Label, label_id)
        assert label is not None and label.status == "deleted" and label.text_enc is None
    assert "labels.delete" in actions(runtime, member_id)


def test_staff_cannot_delete_and_other_members_cannot_either(
    runtime: Runtime, client: TestClient
) -> None:
    member_id, other_id = add_member(runtime), add_member(runtime)
    label_id = client.post(
        f"/v1/members/{member_id}/labels", json=note(), headers=key(runtime, "staff")
    ).json()["id"]
    url = f"/v1/members/{member_id}/labels/{label_id}"
    assert client.delete(url, headers=key(runtime, "staff")).status_code == 403
    other = key(runtime, "member", member_id=other_id)
    assert client.delete(url, headers=other).status_code == 404
    admin = client.delete(url, headers=key(runtime, "admin"))
    assert admin.status_code == 200


def test_member_declares_own_preference(runtime: Runtime, client: TestClient) -> None:
    member_id = add_member(runtime)
    response = client.post(
        f"/v1/members/{member_id}/labels",
        json={"category": "dining_preference", "text": "loves tomato broth"},
        headers=key(runtime, "member", member_id=member_id),
    )
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "member"


def test_writing_needs_a_key(runtime: Runtime, client: TestClient) -> None:
    member_id = add_member(runtime)
    assert client.post(f"/v1/members/{member_id}/labels", json=note()).status_code == 401
    marketer = client.post(
        f"/v1/members/{member_id}/labels", json=note(), headers=key(runtime, "marketer")
    )
    assert marketer.status_code == 403
