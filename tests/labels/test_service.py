"""Label use cases against a real database (SQLite file, or PostgreSQL when configured):
what staff may record, what is kept about it, who sees it, and what the member can do
about it (seed 000, PRODUCT.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import (
    ADMIN,
    ANALYST,
    MARKETER,
    WAITER,
    add_member,
    audit_actions,
    grant_sensitive,
    member_actor,
    staff_note,
)
from memberops.errors import (
    Conflict,
    ConsentRequired,
    Forbidden,
    LabelRejected,
    NotFound,
    ValidationError,
)
from memberops.labels import service
from memberops.labels.models import Label, LabelEvent
from memberops.privacy import audit
from memberops.privacy.models import AuditEntry
from memberops.runtime import Runtime

# ---------------------------------------------------------------------------- writes


def test_staff_note_is_stored_encrypted_with_full_provenance(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    label = staff_note(runtime, session, member_id, "no onions in the spicy broth")

    stored = session.get(Label, label.id)
    assert stored is not None
    assert stored.source == "staff"
    assert stored.created_by == "api_key:k-waiter"
    assert stored.staff_id == "w-17"
    assert stored.store_code == "BJ01"
    assert stored.reason == "guest asked at the table"
    assert stored.created_at is not None and stored.valid_from is not None
    assert stored.status == "active"
    assert stored.sensitive is False
    assert stored.text_enc is not None and "onion" not in stored.text_enc
    plain = runtime.keyring.decrypt(
        stored.text_enc, table="labels", column="text_enc", row_id=stored.id
    )
    assert plain == "no onions in the spicy broth"
    events = session.scalars(
        select(LabelEvent).where(LabelEvent.label_id == label.id).order_by(LabelEvent.at)
    ).all()
    assert [e.action for e in events] == ["created"]
    assert "labels.write" in audit_actions(session, member_id)


@pytest.mark.parametrize(
    "note",
    [
        "1.68 m, glasses, long hair, big round face",
        "loves to report us on the app",
        "20-30岁，安静，不吃胡萝卜",
    ],
)
def test_note_about_looks_or_judgement_is_rejected_and_not_stored(
    runtime: Runtime, session: Session, note: str
) -> None:
    member_id = add_member(session)
    with pytest.raises(LabelRejected) as caught:
        staff_note(runtime, session, member_id, note)
    error = caught.value
    assert error.verdict == "reject"
    assert error.reasons and error.categories
    # The error names reasons and categories, never the note.
    assert note not in str(error)
    for phrase in ("1.68", "round face", "report us", "20-30"):
        assert phrase not in str(error)
    assert session.scalars(select(Label).where(Label.member_id == member_id)).all() == []


def test_a_reason_that_judges_the_guest_is_rejected_too(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    with pytest.raises(LabelRejected) as caught:
        staff_note(runtime, session, member_id, "no onions", reason="fat guy, always complains")
    assert caught.value.field == "reason"
    assert session.scalars(select(Label).where(Label.member_id == member_id)).all() == []


def test_staff_cannot_type_a_grouping_label(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    with pytest.raises(ValidationError, match="category"):
        staff_note(runtime, session, member_id, "big spender", category="value_segment")


def test_marketer_cannot_write_labels(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    with pytest.raises(Forbidden):
        staff_note(runtime, session, member_id, "no onions", actor=MARKETER)


def test_sensitive_need_is_refused_without_consent(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    with pytest.raises(ConsentRequired) as caught:
        staff_note(runtime, session, member_id, "peanut allergy")
    assert isinstance(caught.value, Conflict)
    assert "sensitive_data" in str(caught.value)
    assert "allergy" in caught.value.categories
    assert session.scalars(select(Label).where(Label.member_id == member_id)).all() == []


def test_sensitive_need_is_stored_flagged_with_its_consent(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    consent_id = grant_sensitive(session, member_id)
    label = staff_note(runtime, session, member_id, "peanut allergy")
    assert label.sensitive is True
    assert label.sensitive_categories == ["allergy"]
    assert label.consent_id == consent_id


def test_sensitive_need_is_hidden_from_marketer_and_analyst(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    grant_sensitive(session, member_id)
    staff_note(runtime, session, member_id, "peanut allergy")
    staff_note(runtime, session, member_id, "ice in the lemon juice", category="dining_preference")

    for_staff = service.list_labels(session, runtime.keyring, member_id, actor=WAITER)
    assert sorted(item["text"] for item in for_staff) == [
        "ice in the lemon juice",
        "peanut allergy",
    ]
    for_marketing = service.list_labels(session, runtime.keyring, member_id, actor=MARKETER)
    assert [item["text"] for item in for_marketing] == ["ice in the lemon juice"]
    with pytest.raises(Forbidden):
        service.list_labels(session, runtime.keyring, member_id, actor=ANALYST)
    own = service.list_labels(session, runtime.keyring, member_id, actor=member_actor(member_id))
    assert len(own) == 2


def test_member_declares_own_allergy_only_with_consent(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    me = member_actor(member_id)
    with pytest.raises(ConsentRequired, match="the member must first consent"):
        service.write_member_label(
            session,
            runtime.keyring,
            member_id=member_id,
            category="service_need",
            text="shellfish allergy",
            actor=me,
        )
    grant_sensitive(session, member_id)
    label = service.write_member_label(
        session,
        runtime.keyring,
        member_id=member_id,
        category="service_need",
        text="shellfish allergy",
        actor=me,
    )
    assert label.source == "member"
    assert label.sensitive and label.consent_id is not None
    assert label.created_by == me.label


def test_member_cannot_declare_labels_on_someone_else(runtime: Runtime, session: Session) -> None:
    mine, theirs = add_member(session), add_member(session)
    with pytest.raises(NotFound):
        service.write_member_label(
            session,
            runtime.keyring,
            member_id=theirs,
            category="dining_preference",
            text="loves tomato broth",
            actor=member_actor(mine),
        )


def test_member_sees_own_labels_with_source_and_provenance(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    staff_note(runtime, session, member_id, "no onions")
    labels = service.list_labels(session, runtime.keyring, member_id, actor=member_actor(member_id))
    assert len(labels) == 1
    (item,) = labels
    assert item["source"] == "staff"
    assert item["text"] == "no onions"
    assert item["provenance"]["staff_id"] == "w-17"
    assert item["provenance"]["store_code"] == "BJ01"
    assert item["provenance"]["reason"] == "guest asked at the table"


def test_another_members_labels_are_not_found(runtime: Runtime, session: Session) -> None:
    mine, theirs = add_member(session), add_member(session)
    staff_note(runtime, session, theirs, "no onions")
    with pytest.raises(NotFound):
        service.list_labels(session, runtime.keyring, theirs, actor=member_actor(mine))


def test_staff_read_is_audited_but_the_members_own_read_is_not(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    staff_note(runtime, session, member_id, "no onions")
    service.list_labels(session, runtime.keyring, member_id, actor=WAITER)
    entries = audit.list_entries(session, member_id=member_id, actions=["labels.read"])
    assert len(entries) == 1
    assert entries[0].actor_id == "k-waiter" and entries[0].role == "staff"
    service.list_labels(session, runtime.keyring, member_id, actor=member_actor(member_id))
    assert len(audit.list_entries(session, member_id=member_id, actions=["labels.read"])) == 1


def test_expired_label_is_not_shown_at_the_table(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    label = staff_note(
        runtime,
        session,
        member_id,
        "birthday dinner tonight",
        category="occasion",
        valid_until=datetime.now(UTC) + timedelta(hours=1),
    )
    label.valid_until = datetime.now(UTC) - timedelta(minutes=1)
    session.flush()
    assert service.list_labels(session, runtime.keyring, member_id, actor=WAITER) == []


def test_dispute_flags_the_label(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    label = staff_note(runtime, session, member_id, "no onions")
    service.dispute_label(
        session,
        member_id=member_id,
        label_id=label.id,
        reason="I love onions",
        actor=member_actor(member_id),
    )
    assert label.status == "disputed"
    events = session.scalars(
        select(LabelEvent).where(LabelEvent.label_id == label.id).order_by(LabelEvent.at)
    ).all()
    assert [e.action for e in events] == ["created", "disputed"]
    assert events[-1].reason == "I love onions"
    assert "labels.dispute" in audit_actions(session, member_id)


def test_dispute_reason_with_health_data_is_not_kept_in_clear(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    label = staff_note(runtime, session, member_id, "no sugar in the tea")
    service.dispute_label(
        session,
        member_id=member_id,
        label_id=label.id,
        reason="I have diabetes",
        actor=member_actor(member_id),
    )
    event = session.scalars(
        select(LabelEvent).where(LabelEvent.label_id == label.id, LabelEvent.action == "disputed")
    ).one()
    assert event.reason is not None and "diabetes" not in event.reason


def test_delete_destroys_the_text_and_is_audited(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    label = staff_note(runtime, session, member_id, "no onions")
    service.delete_label(
        session, member_id=member_id, label_id=label.id, actor=member_actor(member_id)
    )
    stored = session.get(Label, label.id)
    assert stored is not None
    assert stored.status == "deleted"
    assert stored.text_enc is None
    assert "labels.delete" in audit_actions(session, member_id)
    # Gone from the table; the member still sees that it was deleted.
    assert service.list_labels(session, runtime.keyring, member_id, actor=WAITER) == []
    own = service.list_labels(session, runtime.keyring, member_id, actor=member_actor(member_id))
    assert [(i["status"], i["text"]) for i in own] == [("deleted", None)]


def test_staff_cannot_delete_or_dispute(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    label = staff_note(runtime, session, member_id, "no onions")
    with pytest.raises(NotFound):
        service.delete_label(session, member_id=member_id, label_id=label.id, actor=WAITER)
    with pytest.raises(NotFound):
        service.dispute_label(
            session, member_id=member_id, label_id=label.id, reason="x", actor=WAITER
        )


def test_label_of_another_member_cannot_be_deleted_through_own_id(
    runtime: Runtime, session: Session
) -> None:
    mine, theirs = add_member(session), add_member(session)
    label = staff_note(runtime, session, theirs, "no onions")
    with pytest.raises(NotFound):
        service.delete_label(session, member_id=mine, label_id=label.id, actor=member_actor(mine))
    assert label.status == "active"


def test_audit_chain_stays_valid_after_label_work(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    label = staff_note(runtime, session, member_id, "no onions")
    service.list_labels(session, runtime.keyring, member_id, actor=WAITER)
    service.delete_label(session, member_id=member_id, label_id=label.id, actor=ADMIN)
    assert audit.verify_chain(session).ok
    assert session.scalars(select(AuditEntry)).first() is not None
