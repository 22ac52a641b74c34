"""Complaints, call-backs and surveys: SLA on the store's hours, escalation, store scope,
audit, encryption at rest, and merges carrying the service history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from memberops.actor import Actor
from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.errors import Conflict, Forbidden, ValidationError
from memberops.identity.merges import merge_by_decision, unmerge
from memberops.members.ownership import member_owned_tables
from memberops.privacy import audit
from memberops.runtime import Runtime
from memberops.servicedesk import service
from memberops.servicedesk.models import Callback, Complaint

ADMIN = Actor(kind="cli", id="tester", role="admin")
BJ_STAFF = Actor(kind="api_key", id="k1", role="staff", staff_id="w-1", store_code="BJ001")
# Wednesday 4 March 2026, 21:00 in Beijing (13:00 UTC): one hour before closing.
EVENING = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


def open_one(
    runtime: Runtime,
    *,
    member_id: str | None = None,
    actor: Actor = ADMIN,
    severity: str = "normal",
) -> str:
    with transaction(runtime.sessions) as session:
        complaint = service.open_complaint(
            session,
            runtime.keyring,
            store_code="BJ001",
            category="food",
            description="soup was cold",
            member_id=member_id,
            severity=severity,
            actor=actor,
        )
        return complaint.id


def test_sla_runs_on_default_hours_across_closing(seeded: Runtime) -> None:
    with use_clock(FixedClock(EVENING)):
        complaint_id = open_one(seeded)  # normal: 240 opening minutes
    with transaction(seeded.sessions) as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        # 60 minutes tonight, 180 tomorrow from 10:00 Beijing = 13:00 Beijing = 05:00 UTC
        assert complaint.due_at == datetime(2026, 3, 5, 5, 0, tzinfo=UTC)


def test_store_hours_change_the_due_time(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session:
        service.set_opening_hours(
            session, "BJ001", {2: ["10:00-02:00"], 3: ["10:00-02:00"]}, actor=ADMIN
        )
    with use_clock(FixedClock(EVENING)):
        complaint_id = open_one(seeded, severity="high")  # 60 opening minutes
    with transaction(seeded.sessions) as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        assert complaint.due_at == EVENING + timedelta(hours=1)


def test_description_is_encrypted_at_rest(seeded: Runtime) -> None:
    complaint_id = open_one(seeded)
    with seeded.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT description_enc FROM complaints WHERE id = :id"), {"id": complaint_id}
        ).scalar_one()
    assert "soup" not in stored
    with transaction(seeded.sessions) as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        assert (
            service.complaint_view(session, seeded.keyring, complaint)["description"]
            == "soup was cold"
        )


def test_escalation_raises_a_level_once_per_lapsed_period(seeded: Runtime) -> None:
    with use_clock(FixedClock(EVENING)):
        complaint_id = open_one(seeded, severity="high")  # due 10:00 Beijing next day
    next_morning = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)  # 10:30 Beijing: 30 min late
    with transaction(seeded.sessions) as session:
        assert service.escalate_lapsed(session, actor=ADMIN, now=next_morning) == 1
        assert service.escalate_lapsed(session, actor=ADMIN, now=next_morning) == 0
        later = datetime(2026, 3, 5, 3, 30, tzinfo=UTC)  # a further full SLA period
        assert service.escalate_lapsed(session, actor=ADMIN, now=later) == 1
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None and complaint.escalation_level == 2
        actions = [e.action for e in audit.list_entries(session, actions=["complaint.escalate"])]
        assert actions == ["complaint.escalate", "complaint.escalate"]


def test_resolution_schedules_one_callback_for_a_member(seeded: Runtime, member: str) -> None:
    complaint_id = open_one(seeded, member_id=member)
    with transaction(seeded.sessions) as session:
        complaint, callback = service.resolve_complaint(
            session, seeded.keyring, complaint_id, resolution="refunded the soup", actor=ADMIN
        )
        assert complaint.status == "resolved" and callback is not None
        assert callback.reason == "complaint" and callback.member_id == member
    with transaction(seeded.sessions) as session, pytest.raises(Conflict):
        service.resolve_complaint(
            session, seeded.keyring, complaint_id, resolution="again", actor=ADMIN
        )


def test_anonymous_complaint_gets_no_callback(seeded: Runtime) -> None:
    complaint_id = open_one(seeded)
    with transaction(seeded.sessions) as session:
        _complaint, callback = service.resolve_complaint(
            session, seeded.keyring, complaint_id, resolution="apologised", actor=ADMIN
        )
    assert callback is None


def test_staff_of_another_store_cannot_touch_a_complaint(seeded: Runtime) -> None:
    complaint_id = open_one(seeded)
    sh_staff = Actor(kind="api_key", id="k2", role="staff", store_code="SH001")
    with transaction(seeded.sessions) as session, pytest.raises(Forbidden):
        service.update_complaint(session, complaint_id, actor=sh_staff, status="in_progress")
    with transaction(seeded.sessions) as session:
        page, total = service.list_complaints(session, actor=sh_staff)
        assert (page, total) == ([], 0)
        page, total = service.list_complaints(session, actor=BJ_STAFF)
        assert total == 1


def test_closing_needs_a_resolution_first(seeded: Runtime) -> None:
    complaint_id = open_one(seeded)
    with transaction(seeded.sessions) as session, pytest.raises(Conflict):
        service.update_complaint(session, complaint_id, actor=ADMIN, status="closed")


def test_unknown_category_names_the_field(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session, pytest.raises(ValidationError) as error:
        service.open_complaint(
            session,
            seeded.keyring,
            store_code="BJ001",
            category="looks",
            description="x",
            actor=ADMIN,
        )
    assert error.value.field == "category"


def test_first_visit_callbacks_are_scheduled_once(seeded: Runtime, member: str) -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction(seeded.sessions) as session:
        assert service.schedule_first_visit_callbacks(session, since=since, actor=ADMIN) == 1
        assert service.schedule_first_visit_callbacks(session, since=since, actor=ADMIN) == 0
        due = service.due_callbacks(session, actor=BJ_STAFF)
        assert [(cb.member_id, cb.reason, code) for cb, code in due] == [
            (member, "first_visit", "BJ001")
        ]
        # the first visit was 1 March 18:30 Beijing; 12 opening hours later is 2 March 18:30
        assert due[0][0].due_at == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
        done = service.complete_callback(session, due[0][0].id, outcome="happy", actor=BJ_STAFF)
        assert done.status == "done"
        assert service.due_callbacks(session, actor=BJ_STAFF) == []


def test_no_first_visit_callbacks_before_the_window(seeded: Runtime, member: str) -> None:
    with transaction(seeded.sessions) as session:
        since = datetime(2026, 6, 1, tzinfo=UTC)
        assert service.schedule_first_visit_callbacks(session, since=since, actor=ADMIN) == 0


def test_nps_per_store(seeded: Runtime, member: str) -> None:
    with transaction(seeded.sessions) as session:
        service.create_survey_template(
            session,
            code="after-visit",
            title="After your visit",
            questions=[
                {"id": "nps", "kind": "nps", "text_en": "Recommend us?", "text_zh": "推荐吗？"},
                {"id": "note", "kind": "text"},
            ],
            actor=ADMIN,
        )
        for score, store in ((10, "BJ001"), (9, "BJ001"), (3, "BJ001"), (7, "SH001")):
            service.record_survey_response(
                session,
                survey_code="after-visit",
                store_code=store,
                answers={"nps": score},
                member_id=member,
                actor=ADMIN,
            )
        with pytest.raises(ValidationError):
            service.record_survey_response(
                session,
                survey_code="after-visit",
                store_code="BJ001",
                answers={"nps": 11},
                actor=ADMIN,
            )
        rows = service.nps_by_store(session)
    assert rows == [
        {"store_code": "BJ001", "responses": 3, "nps": 33.3},
        {"store_code": "SH001", "responses": 1, "nps": 0.0},
    ]


def test_service_tables_are_member_owned() -> None:
    owned = {t.name: t.mode for t in member_owned_tables()}
    assert owned["complaints"] == owned["callbacks"] == owned["survey_responses"] == "move"


def test_merge_carries_complaints_and_unmerge_brings_them_back(
    seeded: Runtime,
    member: str,
    client: object,
    key: Callable[..., dict[str, str]],
    order: Callable[..., dict[str, object]],
) -> None:
    from memberops.identity.service import find_member_ids

    other_order = order("m-2", customer={"phone": "13900001111", "phone_verified": True})
    assert client.post("/v1/orders", json=other_order, headers=key("admin")).status_code == 200  # type: ignore[attr-defined]
    with transaction(seeded.sessions) as session:
        (other,) = find_member_ids(session, seeded.keyring, "13900001111")
    complaint_id = open_one(seeded, member_id=other)
    with transaction(seeded.sessions) as session:
        (record,) = merge_by_decision(
            session, seeded.keyring, member_ids=[member, other], actor=ADMIN, reason="same person"
        )
        merge_id, survivor, absorbed = record.id, record.survivor_id, record.absorbed_id
    with transaction(seeded.sessions) as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None and complaint.member_id == survivor
    with transaction(seeded.sessions) as session:
        unmerge(session, seeded.keyring, merge_id=merge_id, actor=ADMIN)
    with transaction(seeded.sessions) as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None and complaint.member_id == other
        assert session.scalars(select(Callback)).all() == []
    assert absorbed in (member, other)


def test_export_holds_the_service_history_and_erasure_destroys_its_texts(
    seeded: Runtime, member: str
) -> None:
    from memberops.privacy.rights import erase_member, export_member

    complaint_id = open_one(seeded, member_id=member)
    with transaction(seeded.sessions) as session:
        service.resolve_complaint(
            session, seeded.keyring, complaint_id, resolution="refunded", actor=ADMIN
        )
    with transaction(seeded.sessions) as session:
        exported = export_member(session, seeded.keyring, member, actor=ADMIN)["service_desk"]
    assert [c["description"] for c in exported["complaints"]] == ["soup was cold"]
    assert [c["reason"] for c in exported["callbacks"]] == ["complaint"]
    with transaction(seeded.sessions) as session:
        erase_member(session, member, actor=ADMIN, reason="member asked")
    with transaction(seeded.sessions) as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        assert complaint.description_enc is None and complaint.resolution_enc is None
        assert complaint.status == "resolved"  # the store's figures stay
        (callback,) = session.scalars(select(Callback)).all()
        assert callback.status == "cancelled"
