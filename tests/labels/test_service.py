"""Label use cases against a real database (SQLite file, or PostgreSQL when configured):
what staff may record, what is kept about it, who sees it, and what the member can do
about it (seed 000, PRODUCT.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor, system_actor
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.db import new_id
from memberops.errors import (
    Conflict,
    ConsentRequired,
    Forbidden,
    LabelRejected,
    NotFound,
    ValidationError,
)
from memberops.labels import computed, scan, service
from memberops.labels.models import Label, LabelEvent
from memberops.labels.rules import parse_rules
from memberops.members.models import Member
from memberops.orders.models import Order
from memberops.orders.service import ingest
from memberops.privacy import audit
from memberops.privacy.consent import record_consent
from memberops.privacy.models import AuditEntry
from memberops.runtime import Runtime

WAITER = Actor(kind="api_key", id="k-waiter", role="staff", staff_id="w-17", store_code="BJ01")
MARKETER = Actor(kind="api_key", id="k-mkt", role="marketer")
ANALYST = Actor(kind="api_key", id="k-ana", role="analyst")
ADMIN = Actor(kind="cli", id="ops", role="admin")


def member_actor(member_id: str) -> Actor:
    return Actor(kind="api_key", id=f"k-{member_id[-4:]}", role="member", member_id=member_id)


def add_member(session: Session) -> str:
    member = Member(id=new_id())
    session.add(member)
    session.flush()
    return member.id


def grant_sensitive(session: Session, member_id: str) -> str:
    consent = record_consent(
        session,
        member_id=member_id,
        purpose="sensitive_data",
        granted=True,
        channel="app",
        source="settings",
        notice_version="2025-01",
        actor=member_actor(member_id),
    )
    return consent.id


def staff_note(runtime: Runtime, session: Session, member_id: str, text: str, **kw: Any) -> Label:
    return service.write_staff_label(
        session,
        runtime.keyring,
        member_id=member_id,
        category=kw.pop("category", "service_need"),
        text=text,
        reason=kw.pop("reason", "guest asked at the table"),
        actor=kw.pop("actor", WAITER),
        **kw,
    )


def audit_actions(session: Session, member_id: str) -> list[str]:
    return [e.action for e in audit.list_entries(session, member_id=member_id)]


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


# ---------------------------------------------------------------------------- reads
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


# ---------------------------------------------------------------------------- member rights
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


# ---------------------------------------------------------------------------- scan
def legacy_import(runtime: Runtime, session: Session, member_id: str, text: str) -> Label:
    """A label as an old system stored it: straight into the table, never screened."""
    label_id = new_id()
    label = Label(
        id=label_id,
        member_id=member_id,
        category="dining_preference",
        text_enc=runtime.keyring.encrypt(text, table="labels", column="text_enc", row_id=label_id),
        source="import",
        created_by="import:legacy-crm",
    )
    session.add(label)
    session.flush()
    return label


def test_scan_quarantines_legacy_labels_about_looks(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    bad = legacy_import(runtime, session, member_id, "1.68米，戴眼镜，长头发，大圆脸")
    sensitive = legacy_import(runtime, session, member_id, "peanut allergy")
    good = legacy_import(runtime, session, member_id, "loves tomato broth")

    report = scan.scan_labels(session, runtime.keyring, actor=ADMIN)

    assert report.scanned == 3
    assert sorted(report.quarantined) == sorted([bad.id, sensitive.id])
    assert report.by_verdict == {"reject": 1, "sensitive": 1, "allow": 1}
    assert report.by_category["appearance"] >= 1
    assert report.by_category["sensitive_without_consent"] == 1
    assert (bad.status, sensitive.status, good.status) == ("quarantined", "quarantined", "active")
    events = session.scalars(select(LabelEvent).where(LabelEvent.label_id == bad.id)).all()
    assert [e.action for e in events] == ["quarantined"]
    assert "眼镜" not in (events[0].reason or "")
    assert audit_actions(session, member_id).count("labels.quarantine") == 2
    # The report carries ids and counts, never texts.
    assert "眼镜" not in str(report.to_dict())
    # Quarantined labels leave the table.
    shown = service.list_labels(session, runtime.keyring, member_id, actor=WAITER)
    assert [i["id"] for i in shown] == [good.id]


def test_scan_dry_run_changes_nothing(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    bad = legacy_import(runtime, session, member_id, "loves to report us on the app")
    report = scan.scan_labels(session, runtime.keyring, actor=ADMIN, quarantine=False)
    assert report.quarantined == [bad.id]
    assert bad.status == "active"


def test_scan_needs_admin(runtime: Runtime, session: Session) -> None:
    with pytest.raises(Forbidden):
        scan.scan_labels(session, runtime.keyring, actor=WAITER)


# ---------------------------------------------------------------------------- derived
def ingest_orders(
    session: Session, runtime: Runtime, phone: str, modifier_sets: list[list[str]]
) -> str:
    upsert_stores(session, [StoreIn("BJ01", "Wangfujing", "Beijing", "North", "Asia/Shanghai")])
    upsert_items(session, [ItemIn("TOMATO", "Tomato broth", "broth", 3800)])
    records: list[tuple[str, dict[str, Any] | ValidationError]] = []
    for n, modifiers in enumerate(modifier_sets, start=1):
        records.append(
            (
                f"order {n}",
                {
                    "source": "pos",
                    "source_order_id": f"{phone}-{n}",
                    "channel": "pos",
                    "store_code": "BJ01",
                    "ordered_at": f"2025-0{n}-10T19:00:00+08:00",
                    "customer": {"phone": phone, "phone_verified": True},
                    "lines": [
                        {
                            "sku": "TOMATO",
                            "quantity": 1,
                            "unit_price_cents": 3800,
                            "modifiers": modifiers,
                        }
                    ],
                    "total_cents": 3800,
                },
            )
        )
    ingest(
        session, runtime.keyring, records, actor=system_actor("test"), source_name="t", fmt="jsonl"
    )
    member_id = session.scalars(select(Order.member_id).where(Order.source == "pos")).first()
    assert member_id is not None
    return member_id


def test_service_needs_come_from_order_modifiers(runtime: Runtime, session: Session) -> None:
    member_id = ingest_orders(
        session,
        runtime,
        "13800138000",
        [["No  Onions", "ice in lemon juice"], ["no onions"], ["no onions", "extra sauce"]],
    )
    needs = computed.derive_service_needs(session, member_id)
    assert [(m, c) for m, c, _ in needs] == [
        ("no onions", 3),
        ("extra sauce", 1),
        ("ice in lemon juice", 1),
    ]
    assert needs[0][2] == datetime(2025, 3, 10, 11, 0, tzinfo=UTC)


def test_modifier_on_two_orders_becomes_a_computed_service_need(
    runtime: Runtime, session: Session
) -> None:
    member_id = ingest_orders(
        session,
        runtime,
        "13800138001",
        [["no onions", "fat guy"], ["no onions", "fat guy"], ["extra sauce"]],
    )
    labels = computed.refresh_service_need_labels(session, member_id)
    # "fat guy" was typed at the POS twice, but the guard keeps it from becoming a label.
    assert [(lab.category, lab.code, lab.source) for lab in labels] == [
        ("service_need", "modifier:no onions", "computed")
    ]
    assert labels[0].rule_id == "service_need.modifier"
    assert labels[0].reason is not None and "2 orders" in labels[0].reason
    # Refreshing again changes nothing.
    again = computed.refresh_service_need_labels(session, member_id)
    assert [lab.id for lab in again] == [labels[0].id]


def test_refresh_never_recreates_a_label_the_member_deleted(
    runtime: Runtime, session: Session
) -> None:
    member_id = ingest_orders(session, runtime, "13800138002", [["no onions"], ["no onions"]])
    (label,) = computed.refresh_service_need_labels(session, member_id)
    service.delete_label(
        session, member_id=member_id, label_id=label.id, actor=member_actor(member_id)
    )
    assert computed.refresh_service_need_labels(session, member_id) == []
    statuses = session.scalars(select(Label.status).where(Label.member_id == member_id)).all()
    assert statuses == ["deleted"]


def test_rule_labels_are_written_explained_and_expired(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    rule_set = parse_rules(
        ["spicy_share >= 0.6 -> loves_spicy", "visits_90d >= 6 -> fan_level:hardcore_fan"]
    )
    labels = computed.refresh_computed_labels(
        session, member_id, {"spicy_share": 0.72, "visits_90d": 2}, rule_set
    )
    assert [(lab.category, lab.code) for lab in labels] == [("dining_preference", "loves_spicy")]
    assert labels[0].source == "computed"
    assert labels[0].reason == "spicy_share=0.72 >= 0.6"
    assert labels[0].rule_id == rule_set[0].rule_id

    later = computed.refresh_computed_labels(
        session, member_id, {"spicy_share": 0.3, "visits_90d": 8}, rule_set
    )
    assert [lab.code for lab in later] == ["hardcore_fan"]
    assert labels[0].status == "expired"

    back = computed.refresh_computed_labels(
        session, member_id, {"spicy_share": 0.9, "visits_90d": 8}, rule_set
    )
    assert sorted(lab.code or "" for lab in back) == ["hardcore_fan", "loves_spicy"]
    assert labels[0].status == "active"
    assert len(session.scalars(select(Label).where(Label.member_id == member_id)).all()) == 2


def test_audit_chain_stays_valid_after_label_work(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    label = staff_note(runtime, session, member_id, "no onions")
    service.list_labels(session, runtime.keyring, member_id, actor=WAITER)
    service.delete_label(session, member_id=member_id, label_id=label.id, actor=ADMIN)
    assert audit.verify_chain(session).ok
    assert session.scalars(select(AuditEntry)).first() is not None


def test_withdrawn_consent_hides_sensitive_needs_from_staff_but_not_the_member(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    grant_sensitive(session, member_id)
    staff_note(runtime, session, member_id, "peanut allergy")
    record_consent(
        session,
        member_id=member_id,
        purpose="sensitive_data",
        granted=False,
        channel="app",
        source="settings",
        notice_version="2025-01",
        actor=member_actor(member_id),
    )
    assert service.list_labels(session, runtime.keyring, member_id, actor=WAITER) == []
    own = service.list_labels(session, runtime.keyring, member_id, actor=member_actor(member_id))
    assert [item["text"] for item in own] == ["peanut allergy"]
    # The next scan takes it out of service for good.
    report = scan.scan_labels(session, runtime.keyring, actor=ADMIN)
    assert report.by_category["sensitive_without_consent"] == 1


def test_merged_duplicates_of_a_computed_label_collapse_and_an_objection_wins(
    runtime: Runtime, session: Session
) -> None:
    rule_set = parse_rules(["spicy_share >= 0.6 -> loves_spicy"])
    survivor, absorbed = add_member(session), add_member(session)
    (kept,) = computed.refresh_computed_labels(session, survivor, {"spicy_share": 0.9}, rule_set)
    (moved,) = computed.refresh_computed_labels(session, absorbed, {"spicy_share": 0.9}, rule_set)
    service.delete_label(
        session, member_id=absorbed, label_id=moved.id, actor=member_actor(absorbed)
    )
    moved.member_id = survivor  # what a merge does to member-owned rows
    session.flush()

    current = computed.refresh_computed_labels(session, survivor, {"spicy_share": 0.9}, rule_set)

    assert current == []
    assert (kept.status, moved.status) == ("expired", "deleted")
