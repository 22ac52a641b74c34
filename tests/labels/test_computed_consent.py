"""A sensitive need (allergy, health, religious or disability need) rests on the member's
current sensitive_data consent, whether staff type it, the member declares it, or it is
derived from modifiers typed at the POS: a withdrawn consent stops new ones at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import new_id, utcnow
from memberops.errors import ConsentRequired
from memberops.labels import computed, service
from memberops.labels.models import Label
from memberops.members.models import Member
from memberops.orders.models import Order
from memberops.orders.service import ingest
from memberops.privacy.consent import record_consent
from memberops.runtime import Runtime

WAITER = Actor(kind="api_key", id="k-waiter", role="staff", staff_id="w-17", store_code="BJ001")
SENSITIVE_MODIFIER = "no peanuts, allergy"


def member_actor(member_id: str) -> Actor:
    return Actor(kind="api_key", id=f"k-{member_id[-4:]}", role="member", member_id=member_id)


def add_member(session: Session) -> str:
    member = Member(id=new_id())
    session.add(member)
    session.flush()
    return member.id


def decide_sensitive(session: Session, member_id: str, *, granted: bool, hours_ago: int) -> str:
    """The member's sensitive_data decision, at a distinct time so the order is certain."""
    consent = record_consent(
        session,
        member_id=member_id,
        purpose="sensitive_data",
        granted=granted,
        channel="app",
        source="settings",
        notice_version="2025-01",
        actor=member_actor(member_id),
        decided_at=utcnow() - timedelta(hours=hours_ago),
    )
    return consent.id


def grant_then_withdraw(session: Session, member_id: str) -> None:
    decide_sensitive(session, member_id, granted=True, hours_ago=2)
    decide_sensitive(session, member_id, granted=False, hours_ago=1)


def labels_of(session: Session, member_id: str) -> list[Label]:
    return list(session.scalars(select(Label).where(Label.member_id == member_id)))


# ---------------------------------------------------------------------------- typed
def test_staff_cannot_record_a_sensitive_need_after_the_member_withdrew_consent(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    grant_then_withdraw(session, member_id)
    with pytest.raises(ConsentRequired) as refused:
        service.write_staff_label(
            session,
            runtime.keyring,
            member_id=member_id,
            category="service_need",
            text="peanut allergy",
            reason="guest asked at the table",
            actor=WAITER,
        )
    assert "allergy" in refused.value.categories
    assert labels_of(session, member_id) == []


def test_member_cannot_declare_a_sensitive_need_after_withdrawing_consent(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    grant_then_withdraw(session, member_id)
    with pytest.raises(ConsentRequired, match="the member must first consent"):
        service.write_member_label(
            session,
            runtime.keyring,
            member_id=member_id,
            category="service_need",
            text="shellfish allergy",
            actor=member_actor(member_id),
        )
    assert labels_of(session, member_id) == []


def test_consent_given_again_rests_the_new_label_on_the_new_grant(
    runtime: Runtime, session: Session
) -> None:
    member_id = add_member(session)
    grant_then_withdraw(session, member_id)
    regrant = decide_sensitive(session, member_id, granted=True, hours_ago=0)
    label = service.write_staff_label(
        session,
        runtime.keyring,
        member_id=member_id,
        category="service_need",
        text="peanut allergy",
        reason="guest asked at the table",
        actor=WAITER,
    )
    assert label.sensitive and label.consent_id == regrant


# ---------------------------------------------------------------------------- derived
def order_with_modifiers(order: Any, n: int, phone: str, modifiers: list[str]) -> dict[str, Any]:
    return order(
        f"{phone}-{n}",
        at=f"2025-0{n}-10T19:00:00+08:00",
        customer={"phone": phone, "phone_verified": True},
        lines=[{"sku": "BR001", "quantity": 1, "unit_price_cents": 6800, "modifiers": modifiers}],
    )


def member_with_recurring_modifiers(
    runtime: Runtime, session: Session, order: Any, phone: str
) -> str:
    """A member whose last two orders both say 'no onions' and 'no peanuts, allergy'."""
    modifiers = ["no onions", SENSITIVE_MODIFIER]
    records = [(f"order {n}", order_with_modifiers(order, n, phone, modifiers)) for n in (1, 2)]
    ingest(session, runtime.keyring, records, actor=WAITER, source_name="t", fmt="jsonl")
    member_id = session.scalar(select(Order.member_id).where(Order.source_order_id == f"{phone}-1"))
    assert member_id is not None
    return member_id


def derived(session: Session, member_id: str) -> dict[str, tuple[bool, str | None]]:
    labels = computed.refresh_service_need_labels(session, member_id)
    return {str(label.code): (label.sensitive, label.consent_id) for label in labels}


def test_a_sensitive_modifier_becomes_no_label_without_consent(
    runtime: Runtime, session: Session, order: Any
) -> None:
    member_id = member_with_recurring_modifiers(runtime, session, order, "13800138010")
    assert derived(session, member_id) == {"modifier:no onions": (False, None)}


def test_a_sensitive_modifier_becomes_no_label_after_consent_was_withdrawn(
    runtime: Runtime, session: Session, order: Any
) -> None:
    member_id = member_with_recurring_modifiers(runtime, session, order, "13800138011")
    grant_then_withdraw(session, member_id)
    assert derived(session, member_id) == {"modifier:no onions": (False, None)}


def test_a_sensitive_modifier_becomes_a_flagged_label_on_consent(
    runtime: Runtime, session: Session, order: Any
) -> None:
    member_id = member_with_recurring_modifiers(runtime, session, order, "13800138012")
    grant = decide_sensitive(session, member_id, granted=True, hours_ago=1)
    assert derived(session, member_id) == {
        "modifier:no onions": (False, None),
        f"modifier:{SENSITIVE_MODIFIER}": (True, grant),
    }
