"""The scan of stored labels: legacy notes about looks are quarantined, sensitive needs
without consent are hidden, and only admins may run it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import (
    ADMIN,
    WAITER,
    add_member,
    audit_actions,
    grant_sensitive,
    member_actor,
    staff_note,
)
from memberops.db import new_id
from memberops.errors import (
    Forbidden,
)
from memberops.labels import scan, service
from memberops.labels.models import Label, LabelEvent
from memberops.privacy.consent import record_consent
from memberops.runtime import Runtime

# ---------------------------------------------------------------------------- writes


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
