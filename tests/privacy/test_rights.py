"""Data-subject rights: export everything held, erase it for good (issue item 7)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, String, Table, func, select

from memberops.actor import Actor
from memberops.apikeys.service import authenticate, create_api_key
from memberops.db import Base, new_id, transaction
from memberops.errors import ConfigurationError, NotFound
from memberops.identity.merges import merge_members
from memberops.identity.models import Identifier, MemberIdentifier, MergeRecord
from memberops.identity.repository import find_members_by_identifier
from memberops.identity.rules import normalise
from memberops.identity.service import find_member_ids
from memberops.labels.models import Label
from memberops.members.models import Member, MemberStatus
from memberops.members.ownership import member_owned_tables
from memberops.members.service import read_profile
from memberops.orders.models import Order
from memberops.privacy import audit
from memberops.privacy.consent import record_consent
from memberops.privacy.rights import (
    ERASED_TABLES,
    EXPORTED_TABLES,
    erase_member,
    export_member,
    uncovered_member_owned_tables,
)
from memberops.runtime import Runtime

NOTE = "喜欢靠窗的位置, 生日在六月"
ON_SQLITE = not os.environ.get("MEMBEROPS_TEST_DATABASE_URL")


@dataclass
class Subject:
    member_id: str
    person: Any
    label_id: str
    total_cents: int


def identifiers_of(p: Any) -> list[tuple[str, str]]:
    return [("phone", p.phone_e164), ("card_no", p.card), ("email", p.email)]


def add_label(runtime: Runtime, member_id: str, text: str) -> str:
    label_id = new_id()
    with transaction(runtime.sessions) as s:
        s.add(
            Label(
                id=label_id,
                member_id=member_id,
                category="preference",
                text_enc=runtime.keyring.encrypt(
                    text, table="labels", column="text_enc", row_id=label_id
                ),
                source="staff",
                created_by="cli:tester",
                store_code="BJ001",
            )
        )
    return label_id


@pytest.fixture
def subject(
    seeded: Runtime, admin: Actor, make_order: Any, person: Any, ingest_orders: Any
) -> Subject:
    """A member with three orders, a label, a consent and two profile reads; plus a bystander."""
    p = person(41)
    orders = [
        make_order(p, with_email=True),
        make_order(p, quantity=3, sku="MT001"),
        make_order(p, sku="DR001", quantity=1),
        make_order(person(42), quantity=5),
    ]
    ingest_orders(seeded, orders)
    staff = Actor(kind="api_key", id="key-staff-9", role="staff", store_code="SH001")
    with transaction(seeded.sessions) as s:
        (member_id,) = find_member_ids(s, seeded.keyring, p.phone)
        record_consent(
            s,
            member_id=member_id,
            purpose="marketing",
            granted=True,
            channel="app",
            source="signup",
            notice_version="2025-01",
            actor=admin,
            decided_at=datetime(2025, 1, 5, tzinfo=UTC),
        )
        read_profile(s, seeded.keyring, member_id, actor=staff)
        read_profile(s, seeded.keyring, member_id, actor=admin)
    label_id = add_label(seeded, member_id, NOTE)
    return Subject(member_id, p, label_id, sum(o["total_cents"] for o in orders[:3]))


def export(runtime: Runtime, member_id: str, actor: Actor) -> dict[str, Any]:
    with transaction(runtime.sessions) as s:
        return export_member(s, runtime.keyring, member_id, actor=actor)


def erase(runtime: Runtime, member_id: str, actor: Actor, reason: str = "request R-1") -> bool:
    with transaction(runtime.sessions) as s:
        return erase_member(s, member_id, actor=actor, reason=reason)


def order_totals(runtime: Runtime) -> tuple[int, int]:
    with transaction(runtime.sessions) as s:
        count, total = s.execute(select(func.count(), func.sum(Order.total_cents))).one()
    return int(count), int(total)


# --------------------------------------------------------------------------- export
def test_export_holds_the_profile_and_every_identifier_in_full(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    data = export(seeded, subject.member_id, admin)
    assert data["member"]["id"] == subject.member_id
    assert data["member"]["basic"]["name"] == subject.person.name
    found = {(i["kind"], i["value"]) for i in data["identifiers"]}
    assert found == set(identifiers_of(subject.person))
    assert all(i["verified"] for i in data["identifiers"])


def test_export_holds_every_order_with_its_lines(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    data = export(seeded, subject.member_id, admin)
    assert len(data["orders"]) == 3
    assert sum(o["total_cents"] for o in data["orders"]) == subject.total_cents
    lines = [ln for o in data["orders"] for ln in o["lines"]]
    assert sorted((ln["quantity"], ln["unit_price_cents"]) for ln in lines) == [
        (1, 1500),
        (2, 6800),
        (3, 4800),
    ]


def test_export_holds_labels_with_their_decrypted_text_and_the_consents(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    data = export(seeded, subject.member_id, admin)
    (label,) = data["labels"]
    assert label["id"] == subject.label_id and label["text"] == NOTE
    assert data["consents"]["current"]["marketing"] is True
    (decision,) = data["consents"]["history"]
    assert decision == {
        "purpose": "marketing",
        "granted": True,
        "decided_at": "2025-01-05T00:00:00+00:00",
        "channel": "app",
        "source": "signup",
        "notice_version": "2025-01",
    }


def test_export_lists_who_read_the_profile_and_is_itself_audited_as_a_read(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    first = export(seeded, subject.member_id, admin)
    assert [(r["actor"], r["action"], r["store_code"]) for r in first["profile_reads"]] == [
        ("api_key:key-staff-9", "member.read", "SH001"),
        ("cli:tester", "member.read", None),
    ]
    with transaction(seeded.sessions) as s:
        (entry,) = audit.list_entries(s, member_id=subject.member_id, actions=["member.export"])
    assert entry.actor_id == "tester"
    assert {"identifiers", "orders", "labels", "consents", "profile_reads"} <= set(entry.fields)
    second = export(seeded, subject.member_id, admin)
    assert [r["action"] for r in second["profile_reads"]][-1] == "member.export"


def test_export_is_plain_json(seeded: Runtime, admin: Actor, subject: Subject) -> None:
    data = export(seeded, subject.member_id, admin)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_cli_export_writes_everything_to_a_private_file(
    subject: Subject, cli: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "export.json"
    result = cli("members", "export", subject.member_id, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["member"]["basic"]["name"] == subject.person.name
    assert len(data["orders"]) == 3 and data["labels"][0]["text"] == NOTE
    assert subject.person.name not in result.output  # the file, not the terminal


# --------------------------------------------------------------------------- erase
def test_erasure_removes_personal_fields_labels_text_and_identifiers(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    assert erase(seeded, subject.member_id, admin) is True
    with transaction(seeded.sessions) as s:
        member = s.get(Member, subject.member_id)
        assert member is not None
        assert member.status == MemberStatus.ERASED and member.erased_at is not None
        assert (member.name_enc, member.nickname_enc, member.birthday_enc, member.gender) == (
            None,
            None,
            None,
            None,
        )
        links = s.scalar(
            select(func.count())
            .select_from(MemberIdentifier)
            .where(MemberIdentifier.member_id == subject.member_id)
        )
        assert links == 0
        label = s.get(Label, subject.label_id)
        assert label is not None and label.text_enc is None and label.status == "deleted"


def test_after_erasure_no_former_identifier_resolves_to_anyone(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    erase(seeded, subject.member_id, admin)
    keyring = seeded.keyring
    with transaction(seeded.sessions) as s:
        for kind, value in identifiers_of(subject.person):
            assert (
                find_members_by_identifier(
                    s, keyring, kind=kind, value=normalise(kind, value), include_unverified=True
                )
                == []
            )
            indexes = keyring.blind_indexes(kind, normalise(kind, value))
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(Identifier)
                    .where(Identifier.blind_index.in_(indexes))
                )
                == 0
            )
        for query in (subject.person.phone, subject.person.card, subject.person.email):
            assert find_member_ids(s, keyring, query) == []


def test_after_erasure_orders_stay_under_the_pseudonymous_id_and_totals_are_unchanged(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    before = order_totals(seeded)
    erase(seeded, subject.member_id, admin)
    assert order_totals(seeded) == before
    with transaction(seeded.sessions) as s:
        kept = s.scalars(select(Order.total_cents).where(Order.member_id == subject.member_id))
        assert sum(kept) == subject.total_cents


def test_after_erasure_the_profile_can_no_longer_be_read_or_exported(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    erase(seeded, subject.member_id, admin)
    with transaction(seeded.sessions) as s, pytest.raises(NotFound):
        read_profile(s, seeded.keyring, subject.member_id, actor=admin)
    with pytest.raises(NotFound):
        export(seeded, subject.member_id, admin)


def test_erasure_is_idempotent_and_every_attempt_is_audited(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    assert erase(seeded, subject.member_id, admin, "request R-1") is True
    assert erase(seeded, subject.member_id, admin, "request R-1 again") is False
    with transaction(seeded.sessions) as s:
        entries = audit.list_entries(s, member_id=subject.member_id, actions=["member.erase"])
        assert audit.verify_chain(s).ok
    assert [(e.outcome, e.reason) for e in entries] == [
        ("noop", "already erased; request R-1 again"),
        ("ok", "request R-1"),
    ]


def test_erasing_an_unknown_member_is_not_found(seeded: Runtime, admin: Actor) -> None:
    with pytest.raises(NotFound):
        erase(seeded, "0" * 26, admin)


def test_erasing_one_member_leaves_other_members_untouched(
    seeded: Runtime, admin: Actor, subject: Subject, person: Any
) -> None:
    erase(seeded, subject.member_id, admin)
    with transaction(seeded.sessions) as s:
        (other,) = find_member_ids(s, seeded.keyring, person(42).card)
        view = read_profile(s, seeded.keyring, other, actor=admin)
    assert view["basic"]["name"] == person(42).name


def test_cli_erase_twice_reports_already_erased(subject: Subject, cli: Callable[..., Any]) -> None:
    first = cli("members", "erase", subject.member_id, "--reason", "R-2", "--json")
    second = cli("members", "erase", subject.member_id, "--reason", "R-2", "--json")
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert json.loads(first.stdout)["erased"] is True
    assert json.loads(second.stdout) == {
        "member_id": subject.member_id,
        "erased": False,
        "already_erased": True,
    }


def test_after_erasure_the_database_file_no_longer_holds_the_blind_indexes_or_ciphertexts(
    seeded: Runtime, admin: Actor, subject: Subject, database_dump: Callable[[], bytes]
) -> None:
    with transaction(seeded.sessions) as s:
        rows = s.execute(
            select(Identifier.blind_index, Identifier.value_enc)
            .join(MemberIdentifier, MemberIdentifier.identifier_id == Identifier.id)
            .where(MemberIdentifier.member_id == subject.member_id)
        ).all()
        name_enc = s.get(Member, subject.member_id).name_enc  # type: ignore[union-attr]
    assert len(rows) == 3 and name_enc
    erase(seeded, subject.member_id, admin)
    dump = database_dump()
    leftovers = [v for row in rows for v in row if v.encode() in dump]
    assert name_enc.encode() not in dump
    assert leftovers == []


# --------------------------------------------------------------------------- merged members
def _two_people(
    seeded: Runtime, make_order: Any, person: Any, ingest_orders: Any, numbers: tuple[int, ...]
) -> list[str]:
    """Members with a card each except the first, so they can be merged without conflict."""
    orders = [
        make_order(person(n), with_card=i == 0, with_email=True) for i, n in enumerate(numbers)
    ]
    ingest_orders(seeded, orders)
    with transaction(seeded.sessions) as s:
        return [find_member_ids(s, seeded.keyring, person(n).phone)[0] for n in numbers]


def _merge(seeded: Runtime, admin: Actor, survivor: str, absorbed: str) -> None:
    with transaction(seeded.sessions) as s:
        merge_members(
            s,
            seeded.keyring,
            survivor_id=survivor,
            absorbed_id=absorbed,
            evidence=["phone"],
            reason="same person",
            actor=admin,
        )


def _assert_fully_erased(seeded: Runtime, member_ids: list[str], people: list[Any]) -> None:
    keyring = seeded.keyring
    with transaction(seeded.sessions) as s:
        for member_id in member_ids:
            member = s.get(Member, member_id)
            assert member is not None
            assert (member.name_enc, member.nickname_enc, member.birthday_enc) == (None, None, None)
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(MemberIdentifier)
                    .where(MemberIdentifier.member_id == member_id)
                )
                == 0
            )
        for p in people:
            for kind, value in identifiers_of(p):
                indexes = keyring.blind_indexes(kind, normalise(kind, value))
                assert (
                    s.scalar(
                        select(func.count())
                        .select_from(Identifier)
                        .where(Identifier.blind_index.in_(indexes))
                    )
                    == 0
                ), (p.n, kind)
        merges = s.scalars(
            select(MergeRecord.survivor_before).where(MergeRecord.survivor_id.in_(member_ids))
        ).all()
        assert all(before == {} for before in merges)


def test_erasing_a_member_who_absorbed_another_erases_both(
    seeded: Runtime, admin: Actor, make_order: Any, person: Any, ingest_orders: Any
) -> None:
    survivor, absorbed = _two_people(seeded, make_order, person, ingest_orders, (51, 52))
    _merge(seeded, admin, survivor, absorbed)
    before = order_totals(seeded)
    assert erase(seeded, survivor, admin) is True
    _assert_fully_erased(seeded, [survivor, absorbed], [person(51), person(52)])
    assert order_totals(seeded) == before
    with transaction(seeded.sessions) as s:
        for p in (person(51), person(52)):
            assert find_member_ids(s, seeded.keyring, p.phone) == []
            assert find_member_ids(s, seeded.keyring, p.email) == []


def test_erasing_through_the_absorbed_members_id_erases_the_survivor_too(
    seeded: Runtime, admin: Actor, make_order: Any, person: Any, ingest_orders: Any
) -> None:
    survivor, absorbed = _two_people(seeded, make_order, person, ingest_orders, (53, 54))
    _merge(seeded, admin, survivor, absorbed)
    assert erase(seeded, absorbed, admin) is True
    _assert_fully_erased(seeded, [survivor, absorbed], [person(53), person(54)])


def test_erasing_a_member_erases_everyone_merged_into_it_transitively(
    seeded: Runtime, admin: Actor, make_order: Any, person: Any, ingest_orders: Any
) -> None:
    a, b, c = _two_people(seeded, make_order, person, ingest_orders, (55, 56, 57))
    _merge(seeded, admin, b, c)  # C absorbed by B first...
    _merge(seeded, admin, a, b)  # ...then B by A
    assert erase(seeded, a, admin) is True
    _assert_fully_erased(seeded, [a, b, c], [person(55), person(56), person(57)])


# ---------------------------------------------------------------------- declarations
def test_every_member_owned_table_is_exported_or_erased() -> None:
    import memberops.models  # noqa: F401 - every capability's tables on the metadata

    assert uncovered_member_owned_tables() == []
    # Derived tables (computed from history) are deleted by erasure by declaration.
    declared = {owned.name for owned in member_owned_tables() if owned.mode != "derived"}
    assert declared <= EXPORTED_TABLES | set(ERASED_TABLES)


def test_erasure_deletes_every_derived_row(seeded: Runtime, admin: Actor, subject: Subject) -> None:
    from memberops.pipeline.runner import run_refresh

    run_refresh(seeded, full=True)
    derived = member_owned_tables("derived")
    assert {owned.name for owned in derived} >= {"member_profiles", "member_metrics"}
    with transaction(seeded.sessions) as s:
        held = sum(
            len(s.execute(o.table.select().where(o.column == subject.member_id)).all())
            for o in derived
        )
        assert held > 0
        erase_member(s, subject.member_id, actor=admin, reason="request 9")
    with transaction(seeded.sessions) as s:
        for owned in derived:
            rows = s.execute(owned.table.select().where(owned.column == subject.member_id))
            assert rows.all() == [], owned.name


def test_a_member_owned_table_nobody_exports_or_erases_stops_export_and_erasure(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    table = Table(
        "loyalty_lots_unhandled",
        Base.metadata,
        Column("id", String(26), primary_key=True),
        Column("member_id", String(26), info={"member_owned": "move"}),
    )
    try:
        assert uncovered_member_owned_tables() == ["loyalty_lots_unhandled"]
        with transaction(seeded.sessions) as s:
            with pytest.raises(ConfigurationError, match="loyalty_lots_unhandled"):
                export_member(s, seeded.keyring, subject.member_id, actor=admin)
            with pytest.raises(ConfigurationError, match="loyalty_lots_unhandled"):
                erase_member(s, subject.member_id, actor=admin, reason="request 7")
    finally:
        Base.metadata.remove(table)
    assert uncovered_member_owned_tables() == []


def test_erasure_revokes_the_members_own_api_keys(
    seeded: Runtime, admin: Actor, subject: Subject
) -> None:
    with transaction(seeded.sessions) as s:
        _key, secret = create_api_key(s, name="app", role="member", member_id=subject.member_id)
        assert authenticate(s, secret) is not None
    with transaction(seeded.sessions) as s:
        erase_member(s, subject.member_id, actor=admin, reason="request 8")
    with transaction(seeded.sessions) as s:
        assert authenticate(s, secret) is None
