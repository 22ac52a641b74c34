"""The two invariants the identity tables hold themselves, under concurrent writers.

`uq_member_identifiers_exclusive_holder`: an exclusive identifier (card, app account,
WeChat id, POS code) has at most one active holder. `uq_member_identifiers_single_kind`:
a member holds at most one active identifier of each single-valued kind (one card, one
app account, one unionid). Both are partial unique indexes, so the resolver's in-memory
checks cannot be raced past: two writers that each decide "this card is free" in their
own transaction must not both commit.

Each race runs two real connections in two threads. The first writer inserts and holds
its transaction open; the second starts only then, so it writes while the first row is
uncommitted: on PostgreSQL its insert waits on the index entry, on SQLite its
`BEGIN IMMEDIATE` waits for the write lock. Exactly one of them may commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from memberops.db import Base, new_id, transaction
from memberops.identity.models import Identifier, MemberIdentifier
from memberops.identity.rules import EXCLUSIVE_KINDS, SINGLE_PER_MEMBER_KINDS
from memberops.members.models import Member
from memberops.runtime import Runtime

RACE_TIMEOUT_S = 60


def add_member(runtime: Runtime) -> str:
    with transaction(runtime.sessions) as session:
        member = Member(id=new_id())
        session.add(member)
    return member.id


def add_identifier(runtime: Runtime, kind: str) -> str:
    """An identifier row; its value is opaque to these tests (only ids are compared)."""
    ident_id = new_id()
    with transaction(runtime.sessions) as session:
        session.add(
            Identifier(
                id=ident_id,
                kind=kind,
                blind_index=new_id() + new_id(),
                index_key_id="k1",
                value_enc="opaque",
            )
        )
    return ident_id


def link(session: Session, member_id: str, identifier_id: str, kind: str, **kw: object) -> None:
    session.add(
        MemberIdentifier(
            member_id=member_id, identifier_id=identifier_id, kind=kind, verified=True, **kw
        )
    )
    session.flush()


def active_links(runtime: Runtime, **where: str) -> int:
    stmt = select(func.count()).select_from(MemberIdentifier)
    stmt = stmt.where(MemberIdentifier.status == "active")
    for column, value in where.items():
        stmt = stmt.where(getattr(MemberIdentifier, column) == value)
    with runtime.sessions() as session:
        return session.scalar(stmt) or 0


@dataclass
class RaceResult:
    committed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unexpected: list[BaseException] = field(default_factory=list)


def race(runtime: Runtime, first: Callable[[Session], None], second: Callable[[Session], None]):
    """Run two writers on two connections; the second writes while the first is open."""
    first_wrote = threading.Event()
    result = RaceResult()

    def run(name: str, write: Callable[[Session], None]) -> None:
        try:
            if name == "second":
                # Start only once the first writer's row exists, uncommitted.
                assert first_wrote.wait(RACE_TIMEOUT_S), "the first writer never wrote"
            with transaction(runtime.sessions) as session:
                write(session)
                if name == "first":
                    first_wrote.set()
                    # Hold the transaction open long enough for the second writer to
                    # block behind it; its outcome cannot depend on this delay.
                    threading.Event().wait(0.3)
            result.committed.append(name)
        except IntegrityError:
            result.refused.append(name)
        except BaseException as exc:  # reported below; a thread must not swallow it
            result.unexpected.append(exc)
        finally:
            first_wrote.set()

    threads = [
        threading.Thread(target=run, args=("first", first)),
        threading.Thread(target=run, args=("second", second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert not result.unexpected, result.unexpected
    return result


PartialIndex = tuple[str, str, tuple[str, ...]]


def declared_partial_unique_indexes() -> set[PartialIndex]:
    found: set[PartialIndex] = set()
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"].get("where")
            if index.unique and where is not None:
                assert index.name is not None
                columns = tuple(c.name for c in index.columns)
                found.add((table.name, index.name, columns))
    return found


def test_the_migrated_schema_holds_exactly_the_partial_unique_indexes_the_models_declare(
    runtime: Runtime,
) -> None:
    """The races below test the database, which the migrations build: they and the models
    must agree, or a dropped index on either side would go unnoticed."""
    inspector = inspect(runtime.engine)
    migrated: set[PartialIndex] = set()
    for table in inspector.get_table_names():
        for index in inspector.get_indexes(table):
            options = index.get("dialect_options", {})
            partial = {"sqlite_where", "postgresql_where"} & set(options)
            if index["unique"] and partial:
                assert index["name"] is not None
                columns = tuple(str(c) for c in index["column_names"])
                migrated.add((table, index["name"], columns))
    assert migrated == declared_partial_unique_indexes()
    assert {name for _t, name, _c in migrated} >= {
        "uq_member_identifiers_exclusive_holder",
        "uq_member_identifiers_single_kind",
    }


# ------------------------------------------------------------------ one active holder
@pytest.mark.parametrize("kind", sorted(EXCLUSIVE_KINDS))
def test_two_writers_linking_one_exclusive_identifier_to_two_members_one_commits(
    runtime: Runtime, kind: str
) -> None:
    alice, bob = add_member(runtime), add_member(runtime)
    card = add_identifier(runtime, kind)
    result = race(
        runtime,
        lambda s: link(s, alice, card, kind),
        lambda s: link(s, bob, card, kind),
    )
    assert result.committed == ["first"]
    assert result.refused == ["second"]
    assert active_links(runtime, identifier_id=card) == 1
    assert active_links(runtime, identifier_id=card, member_id=alice) == 1


def test_an_inactive_link_does_not_hold_an_exclusive_identifier(runtime: Runtime) -> None:
    """The index is partial: a card given up (a merge, an unmerge) can be held again."""
    alice, bob = add_member(runtime), add_member(runtime)
    card = add_identifier(runtime, "card_no")
    with transaction(runtime.sessions) as session:
        link(session, alice, card, "card_no", status="inactive")
        link(session, bob, card, "card_no")
    assert active_links(runtime, identifier_id=card) == 1


def test_a_shared_kind_may_have_several_active_holders(runtime: Runtime) -> None:
    """A family phone is held by each family member: only exclusive kinds are limited."""
    alice, bob = add_member(runtime), add_member(runtime)
    phone = add_identifier(runtime, "phone")
    with transaction(runtime.sessions) as session:
        link(session, alice, phone, "phone")
        link(session, bob, phone, "phone")
    assert active_links(runtime, identifier_id=phone) == 2


def test_reactivating_a_second_holder_of_an_exclusive_identifier_is_refused(
    runtime: Runtime,
) -> None:
    """An UPDATE that would make two holders active hits the same index as an INSERT."""
    alice, bob = add_member(runtime), add_member(runtime)
    card = add_identifier(runtime, "card_no")
    with transaction(runtime.sessions) as session:
        link(session, alice, card, "card_no")
        link(session, bob, card, "card_no", status="inactive")
    with pytest.raises(IntegrityError), transaction(runtime.sessions) as session:
        session.execute(
            update(MemberIdentifier)
            .where(MemberIdentifier.member_id == bob)
            .values(status="active")
        )
    assert active_links(runtime, identifier_id=card, member_id=alice) == 1


# ------------------------------------------------------------------ one of a kind per member
@pytest.mark.parametrize("kind", sorted(SINGLE_PER_MEMBER_KINDS))
def test_two_writers_giving_one_member_two_values_of_a_single_kind_one_commits(
    runtime: Runtime, kind: str
) -> None:
    alice = add_member(runtime)
    first_card, second_card = add_identifier(runtime, kind), add_identifier(runtime, kind)
    result = race(
        runtime,
        lambda s: link(s, alice, first_card, kind),
        lambda s: link(s, alice, second_card, kind),
    )
    assert result.committed == ["first"]
    assert result.refused == ["second"]
    assert active_links(runtime, member_id=alice, kind=kind) == 1
    assert active_links(runtime, member_id=alice, identifier_id=first_card) == 1


def test_a_member_may_hold_several_values_of_a_multi_valued_kind(runtime: Runtime) -> None:
    """Two phones, two emails or two WeChat openids (one per official account) are fine."""
    alice = add_member(runtime)
    kinds = ("phone", "phone", "email", "wechat_openid", "wechat_openid")
    identifiers = [(add_identifier(runtime, kind), kind) for kind in kinds]
    with transaction(runtime.sessions) as session:
        for ident_id, kind in identifiers:
            link(session, alice, ident_id, kind)
    assert active_links(runtime, member_id=alice) == 5


def test_a_given_up_card_does_not_stop_a_member_holding_a_new_one(runtime: Runtime) -> None:
    alice = add_member(runtime)
    old_card, new_card = add_identifier(runtime, "card_no"), add_identifier(runtime, "card_no")
    with transaction(runtime.sessions) as session:
        link(session, alice, old_card, "card_no", status="inactive")
        link(session, alice, new_card, "card_no")
    assert active_links(runtime, member_id=alice, kind="card_no") == 1
