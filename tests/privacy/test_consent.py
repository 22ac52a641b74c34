"""Consent per purpose: one-call grant and withdraw, one-read state, kept history (item 5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from memberops.actor import Actor
from memberops.db import transaction
from memberops.errors import ValidationError
from memberops.identity.merges import merge_members
from memberops.identity.service import find_member_ids
from memberops.orders.models import Order
from memberops.privacy import audit
from memberops.privacy.consent import (
    ConsentDecision,
    current_consents,
    has_consent,
    record_consent,
    record_consents_bulk,
)
from memberops.privacy.models import Consent, ConsentState
from memberops.privacy.rules import PURPOSES
from memberops.runtime import Runtime

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))


@pytest.fixture
def member_ids(seeded: Runtime, make_order: Any, person: Any, ingest_orders: Any) -> list[str]:
    """Two members with a verified phone each, created by ordering (no consent asked)."""
    ingest_orders(
        seeded,
        [make_order(person(31), with_card=False), make_order(person(32), with_card=False)],
    )
    with transaction(seeded.sessions) as s:
        return [find_member_ids(s, seeded.keyring, person(n).phone)[0] for n in (31, 32)]


def decide(
    runtime: Runtime,
    actor: Actor,
    member_id: str,
    purpose: str,
    granted: bool,
    at: datetime,
    *,
    channel: str = "app",
    notice: str = "2025-01",
) -> None:
    with transaction(runtime.sessions) as s:
        record_consent(
            s,
            member_id=member_id,
            purpose=purpose,
            granted=granted,
            channel=channel,
            source="privacy-tests",
            notice_version=notice,
            actor=actor,
            decided_at=at,
        )


def states(runtime: Runtime, member_id: str) -> list[ConsentState]:
    with transaction(runtime.sessions) as s:
        return list(s.scalars(select(ConsentState).where(ConsentState.member_id == member_id)))


def history(runtime: Runtime, member_id: str) -> list[Consent]:
    with transaction(runtime.sessions) as s:
        return list(
            s.scalars(
                select(Consent).where(Consent.member_id == member_id).order_by(Consent.decided_at)
            )
        )


def test_a_member_without_decisions_has_consented_to_nothing(
    seeded: Runtime, member_ids: list[str]
) -> None:
    with transaction(seeded.sessions) as s:
        assert current_consents(s, member_ids[0]) == dict.fromkeys(PURPOSES, False)
        assert not has_consent(s, member_ids[0], "marketing")


def test_grant_then_withdraw_changes_the_state_and_keeps_both_decisions_with_their_context(
    seeded: Runtime, admin: Actor, member_ids: list[str]
) -> None:
    member = member_ids[0]
    decide(seeded, admin, member, "marketing", True, T0, channel="miniprogram", notice="2025-01")
    with transaction(seeded.sessions) as s:
        assert has_consent(s, member, "marketing")
        assert current_consents(s, member)["marketing"] is True
    decide(
        seeded,
        admin,
        member,
        "marketing",
        False,
        T0 + timedelta(days=3),
        channel="pos",
        notice="2025-02",
    )
    with transaction(seeded.sessions) as s:
        assert not has_consent(s, member, "marketing")
        assert current_consents(s, member) == dict.fromkeys(PURPOSES, False)
    kept = history(seeded, member)
    assert [(c.granted, c.channel, c.source, c.notice_version) for c in kept] == [
        (True, "miniprogram", "privacy-tests", "2025-01"),
        (False, "pos", "privacy-tests", "2025-02"),
    ]
    assert [c.decided_at for c in kept] == [T0, T0 + timedelta(days=3)]
    assert {c.recorded_by for c in kept} == {"cli:tester"}


def test_the_current_state_is_one_row_per_purpose_however_many_decisions(
    seeded: Runtime, admin: Actor, member_ids: list[str]
) -> None:
    member = member_ids[0]
    for day in range(6):
        decide(seeded, admin, member, "marketing", day % 2 == 0, T0 + timedelta(days=day))
    decide(seeded, admin, member, "profiling", True, T0)
    rows = states(seeded, member)
    assert sorted((r.purpose, r.granted) for r in rows) == [
        ("marketing", False),
        ("profiling", True),
    ]
    assert len(history(seeded, member)) == 7
    marketing = next(r for r in rows if r.purpose == "marketing")
    assert marketing.decided_at == T0 + timedelta(days=5)


def test_a_late_arriving_older_decision_does_not_override_a_newer_one(
    seeded: Runtime, admin: Actor, member_ids: list[str]
) -> None:
    member = member_ids[0]
    decide(seeded, admin, member, "marketing", False, T0 + timedelta(days=10))
    decide(seeded, admin, member, "marketing", True, T0)  # arrives later, decided earlier
    with transaction(seeded.sessions) as s:
        assert not has_consent(s, member, "marketing")
    assert [c.granted for c in history(seeded, member)] == [True, False]


def test_each_purpose_is_decided_separately(
    seeded: Runtime, admin: Actor, member_ids: list[str]
) -> None:
    member = member_ids[0]
    decide(seeded, admin, member, "personalised_marketing", True, T0)
    with transaction(seeded.sessions) as s:
        state = current_consents(s, member)
    assert state == {p: p == "personalised_marketing" for p in PURPOSES}


def test_grant_and_withdraw_are_audited_with_the_purpose_and_never_with_personal_data(
    seeded: Runtime, admin: Actor, member_ids: list[str]
) -> None:
    member = member_ids[0]
    decide(seeded, admin, member, "partner_sharing", True, T0)
    decide(seeded, admin, member, "partner_sharing", False, T0 + timedelta(hours=1))
    with transaction(seeded.sessions) as s:
        entries = audit.list_entries(
            s, member_id=member, actions=["consent.grant", "consent.withdraw"]
        )
    assert [(e.action, e.fields) for e in entries] == [
        ("consent.withdraw", ["partner_sharing"]),
        ("consent.grant", ["partner_sharing"]),
    ]
    assert entries[0].reason == "app/privacy-tests, notice 2025-01"


@pytest.mark.parametrize(
    ("purpose", "notice", "field"),
    [("newsletter", "2025-01", "purpose"), ("marketing", "", "notice_version")],
)
def test_an_unknown_purpose_or_a_missing_notice_version_is_refused(
    seeded: Runtime, admin: Actor, member_ids: list[str], purpose: str, notice: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        decide(seeded, admin, member_ids[0], purpose, True, T0, notice=notice)
    assert caught.value.field == field
    assert history(seeded, member_ids[0]) == []


# --------------------------------------------------------------------------- bulk
def bulk(runtime: Runtime, actor: Actor, decisions: list[ConsentDecision]) -> int:
    with transaction(runtime.sessions) as s:
        return record_consents_bulk(s, decisions, actor=actor)


def decision(member_id: str, purpose: str, granted: bool, at: datetime) -> ConsentDecision:
    return ConsentDecision(member_id, purpose, granted, at, "app", "feed", "2025-01")


def test_bulk_decisions_keep_every_row_and_the_newest_per_purpose_wins_whatever_the_order(
    seeded: Runtime, admin: Actor, member_ids: list[str]
) -> None:
    a, b = member_ids
    stored = bulk(
        seeded,
        admin,
        [
            decision(a, "marketing", False, T0 + timedelta(days=2)),
            decision(a, "marketing", True, T0),  # older, later in the feed
            decision(b, "marketing", True, T0.astimezone(CST)),
            decision(b, "profiling", True, T0),
        ],
    )
    assert stored == 4
    assert sorted((s.purpose, s.granted) for s in states(seeded, a)) == [("marketing", False)]
    assert sorted((s.purpose, s.granted) for s in states(seeded, b)) == [
        ("marketing", True),
        ("profiling", True),
    ]
    assert len(history(seeded, a)) == 2


def test_bulk_decisions_older_than_the_stored_state_are_kept_but_do_not_win(
    seeded: Runtime, admin: Actor, member_ids: list[str]
) -> None:
    a = member_ids[0]
    decide(seeded, admin, a, "marketing", True, T0 + timedelta(days=30))
    bulk(seeded, admin, [decision(a, "marketing", False, T0)])
    with transaction(seeded.sessions) as s:
        assert has_consent(s, a, "marketing")
    bulk(
        seeded, admin, [decision(a, "marketing", False, (T0 + timedelta(days=31)).astimezone(CST))]
    )
    with transaction(seeded.sessions) as s:
        assert not has_consent(s, a, "marketing")
    assert len(history(seeded, a)) == 3
    assert len(states(seeded, a)) == 1


def test_bulk_with_no_decisions_stores_nothing(seeded: Runtime, admin: Actor) -> None:
    assert bulk(seeded, admin, []) == 0


def test_consent_records_in_an_import_reach_the_member_found_by_phone(
    seeded: Runtime, person: Any, ingest_orders: Any, member_ids: list[str]
) -> None:
    p = person(31)
    record = {
        "record_type": "consent",
        "source": "app",
        "customer": {"phone": p.phone, "phone_verified": True},
        "purpose": "marketing",
        "granted": True,
        "at": "2025-04-01T10:00:00+08:00",
        "notice_version": "2025-01",
    }
    report = ingest_orders(seeded, [record])
    assert report.consents_recorded == 1
    with transaction(seeded.sessions) as s:
        assert has_consent(s, member_ids[0], "marketing")
        assert not has_consent(s, member_ids[1], "marketing")


def test_after_a_merge_the_newest_decision_of_either_member_is_the_state(
    seeded: Runtime, admin: Actor, member_ids: list[str]
) -> None:
    survivor, absorbed = member_ids
    decide(seeded, admin, survivor, "marketing", True, T0)
    decide(seeded, admin, absorbed, "marketing", False, T0 + timedelta(days=1))
    with transaction(seeded.sessions) as s:
        merge_members(
            s,
            seeded.keyring,
            survivor_id=survivor,
            absorbed_id=absorbed,
            evidence=["phone"],
            reason="test",
            actor=admin,
        )
    with transaction(seeded.sessions) as s:
        assert not has_consent(s, survivor, "marketing")
    assert len(history(seeded, survivor)) == 2
    assert states(seeded, absorbed) == []


# --------------------------------------------------------------------------- ordering
def test_ordering_needs_no_consent_at_all(
    seeded: Runtime, make_order: Any, person: Any, ingest_orders: Any
) -> None:
    report = ingest_orders(seeded, [make_order(person(33)), make_order(person(33))])
    assert report.orders_created == 2 and report.members_created == 1
    with transaction(seeded.sessions) as s:
        (member_id,) = find_member_ids(s, seeded.keyring, person(33).phone)
        assert (
            s.scalar(select(func.count()).select_from(Order).where(Order.member_id == member_id))
            == 2
        )
        assert s.scalar(select(func.count()).select_from(Consent)) == 0
        assert s.scalar(select(func.count()).select_from(ConsentState)) == 0


def test_ordering_still_works_after_marketing_consent_is_withdrawn(
    seeded: Runtime,
    admin: Actor,
    make_order: Any,
    person: Any,
    ingest_orders: Any,
    member_ids: list[str],
) -> None:
    for purpose in PURPOSES:
        decide(seeded, admin, member_ids[0], purpose, False, T0)
    report = ingest_orders(seeded, [make_order(person(31), source_order_id="after-withdraw")])
    assert report.orders_created == 1 and report.members_created == 0
    with transaction(seeded.sessions) as s:
        owner = s.scalar(select(Order.member_id).where(Order.source_order_id == "after-withdraw"))
    assert owner == member_ids[0]


# --------------------------------------------------------------------------- CLI
def test_cli_withdraw_is_the_same_single_command_as_grant(
    member_ids: list[str], cli: Callable[..., Any]
) -> None:
    member = member_ids[0]
    granted = cli("consent", "grant", member, "marketing", "--notice", "2025-01", "--json")
    assert granted.exit_code == 0, granted.output
    assert json.loads(granted.stdout)["marketing"] is True
    withdrawn = cli("consent", "withdraw", member, "marketing", "--notice", "2025-01", "--json")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert json.loads(withdrawn.stdout) == dict.fromkeys(PURPOSES, False)


def test_cli_consent_for_an_unknown_purpose_fails_with_a_validation_exit_code(
    member_ids: list[str], cli: Callable[..., Any]
) -> None:
    result = cli("consent", "grant", member_ids[0], "telemarketing")
    assert result.exit_code == 65
    assert "field purpose" in result.stderr
