"""/v1/complaints, /v1/callbacks and /v1/surveys over HTTP: roles, scope, one error shape."""

from __future__ import annotations

from collections.abc import Callable

from memberops.db import transaction
from memberops.privacy import audit
from memberops.runtime import Runtime

Key = Callable[..., dict[str, str]]


def complaint(**extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "store_code": "BJ001",
        "category": "wait",
        "description": "waited 40 minutes",
    }
    body.update(extra)
    return body


def test_complaint_from_intake_to_resolution_with_callback(
    client, key: Key, member: str, seeded: Runtime
) -> None:  # type: ignore[no-untyped-def]
    staff = key("staff", store="BJ001")
    created = client.post("/v1/complaints", json=complaint(member_id=member), headers=staff)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "open" and body["sla_minutes"] == 240 and body["member_id"] == member
    cid = body["id"]
    taken = client.patch(
        f"/v1/complaints/{cid}", json={"status": "in_progress", "owner": "w-1"}, headers=staff
    )
    assert taken.json()["status"] == "in_progress" and taken.json()["owner"] == "w-1"
    resolved = client.post(
        f"/v1/complaints/{cid}/resolve",
        json={"resolution": "seated with priority next time"},
        headers=staff,
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved" and resolved.json()["callback_id"]
    due = client.get("/v1/callbacks", headers=staff).json()["callbacks"]
    assert [(c["reason"], c["complaint_id"]) for c in due] == [("complaint", cid)]
    done = client.post(
        f"/v1/callbacks/{due[0]['id']}/done", json={"outcome": "guest satisfied"}, headers=staff
    )
    assert done.json()["status"] == "done"
    with transaction(seeded.sessions) as session:
        actions = {e.action for e in audit.list_entries(session, member_id=member)}
    assert {"complaint.open", "complaint.update", "complaint.resolve", "callback.done"} <= actions


def test_member_key_files_only_its_own_complaint(client, key: Key, member: str) -> None:  # type: ignore[no-untyped-def]
    mine = key("member", member_id=member)
    created = client.post("/v1/complaints", json=complaint(channel="app"), headers=mine)
    assert created.status_code == 201 and created.json()["member_id"] == member
    assert client.get("/v1/complaints", headers=mine).status_code == 403


def test_other_store_staff_gets_403_and_pos_cannot_list(client, key: Key) -> None:  # type: ignore[no-untyped-def]
    cid = client.post("/v1/complaints", json=complaint(), headers=key("admin")).json()["id"]
    other = client.patch(
        f"/v1/complaints/{cid}", json={"status": "in_progress"}, headers=key("staff", store="SH001")
    )
    assert other.status_code == 403 and other.json()["error"] == "forbidden"
    assert client.get("/v1/complaints", headers=key("pos", store="BJ001")).status_code == 403
    assert client.get("/v1/complaints").status_code == 401


def test_unknown_fields_and_bad_ids_are_422(client, key: Key) -> None:  # type: ignore[no-untyped-def]
    admin = key("admin")
    assert (
        client.post("/v1/complaints", json=complaint(status="resolved"), headers=admin).status_code
        == 422
    )
    assert client.get("/v1/complaints/13812345678", headers=admin).status_code == 422
    bad = client.post("/v1/complaints", json=complaint(category="looks"), headers=admin)
    assert bad.status_code == 422 and "category" in bad.text


def test_surveys_and_nps(client, key: Key, member: str) -> None:  # type: ignore[no-untyped-def]
    admin = key("admin")
    survey = {
        "code": "visit",
        "title": "Your visit",
        "questions": [{"id": "nps", "kind": "nps", "text_zh": "您会推荐我们吗？"}],
    }
    assert client.post("/v1/surveys", json=survey, headers=admin).status_code == 201
    assert client.post("/v1/surveys", json=survey, headers=admin).status_code == 409
    for score in (10, 6):
        answered = client.post(
            "/v1/surveys/visit/responses",
            json={"store_code": "BJ001", "answers": {"nps": score}},
            headers=key("member", member_id=member),
        )
        assert answered.status_code == 201 and answered.json()["member_id"] == member
    nps = client.get("/v1/surveys/nps", headers=key("analyst")).json()
    assert nps == {"stores": [{"store_code": "BJ001", "responses": 2, "nps": 0.0}]}
    assert client.get("/v1/surveys/nps", headers=key("staff", store="BJ001")).status_code == 403


def test_opening_hours_are_admin_only(client, key: Key) -> None:  # type: ignore[no-untyped-def]
    body = {"week": {"5": ["10:00-02:00"]}}
    assert (
        client.put(
            "/v1/stores/BJ001/opening-hours", json=body, headers=key("staff", store="BJ001")
        ).status_code
        == 403
    )
    ok = client.put("/v1/stores/BJ001/opening-hours", json=body, headers=key("admin"))
    assert ok.status_code == 200 and ok.json() == {"5": ["10:00-02:00"]}
    bad = client.put(
        "/v1/stores/BJ001/opening-hours", json={"week": {"1": ["late"]}}, headers=key("admin")
    )
    assert bad.status_code == 422


def test_escalate_and_first_visits_need_a_manager(client, key: Key, member: str) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.post("/v1/complaint-escalations", headers=key("staff", store="BJ001")).status_code
        == 403
    )
    assert client.post(
        "/v1/complaint-escalations", headers=key("manager", store="BJ001")
    ).json() == {"escalated": 0}
    scheduled = client.post(
        "/v1/callbacks/first-visits",
        json={"since": "2026-01-01T00:00:00+08:00"},
        headers=key("admin"),
    )
    assert scheduled.json() == {"scheduled": 1}


def test_member_list_for_admin_and_manager_only(client, key: Key, member: str) -> None:  # type: ignore[no-untyped-def]
    listed = client.get("/v1/members?store=BJ001", headers=key("admin"))
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["members"]] == [member]
    assert listed.json()["total"] == 1
    manager = client.get("/v1/members", headers=key("manager", store="SH001"))
    assert manager.status_code == 200 and manager.json()["total"] == 0  # scoped to SH001
    assert client.get("/v1/members", headers=key("staff", store="BJ001")).status_code == 403
    lookup = client.get("/v1/members?query=13812345678", headers=key("staff", store="BJ001"))
    assert [m["id"] for m in lookup.json()["members"]] == [member]


def test_times_without_an_offset_are_422(client, key: Key) -> None:  # type: ignore[no-untyped-def]
    admin = key("admin")
    naive = client.post(
        "/v1/callbacks/first-visits", json={"since": "2026-01-01T00:00:00"}, headers=admin
    )
    assert naive.status_code == 422
    assert (
        client.get("/v1/callbacks?due_before=2026-01-01T00:00:00", headers=admin).status_code == 422
    )
