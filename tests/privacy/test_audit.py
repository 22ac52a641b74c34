"""The append-only, hash-chained audit log and its CLI (issue item 6), and log neutralising."""

from __future__ import annotations

import io
import itertools
import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from memberops.actor import Actor
from memberops.db import transaction
from memberops.identity.service import find_member_ids
from memberops.logs import NeutralisingFormatter, neutralise
from memberops.members.service import read_profile
from memberops.privacy import audit
from memberops.privacy.models import AuditEntry, AuditHead
from memberops.runtime import Runtime

ENTRIES = 6
SWAPPED = (
    "at",
    "actor_kind",
    "actor_id",
    "role",
    "action",
    "member_id",
    "reason",
    "outcome",
    "prev_hash",
    "entry_hash",
)


@pytest.fixture
def chain(seeded: Runtime, admin: Actor) -> Runtime:
    """Six entries, appended in separate transactions like separate requests would."""
    for n in range(1, ENTRIES + 1):
        with transaction(seeded.sessions) as s:
            audit.record(s, admin, f"test.action{n}", member_id=f"m{n:025d}", reason=f"step {n}")
    return seeded


def verify(runtime: Runtime) -> audit.AuditVerification:
    with transaction(runtime.sessions) as s:
        return audit.verify_chain(s)


def test_appended_entries_form_a_chain_that_verifies(chain: Runtime) -> None:
    result = verify(chain)
    assert result.ok, result.problems
    assert result.checked == ENTRIES
    with transaction(chain.sessions) as s:
        entries = audit.list_entries(s, limit=100)
    assert [e.seq for e in entries] == list(range(ENTRIES, 0, -1))  # newest first
    oldest_first = entries[::-1]
    assert oldest_first[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(oldest_first):
        assert after.prev_hash == before.entry_hash


def test_an_empty_log_verifies(seeded: Runtime) -> None:
    result = verify(seeded)
    assert result.ok and result.checked == 0


def test_verifying_in_small_batches_gives_the_same_answer(chain: Runtime) -> None:
    with transaction(chain.sessions) as s:
        assert audit.verify_chain(s, batch_size=2).to_dict() == {
            "ok": True,
            "checked": ENTRIES,
            "problems": [],
        }


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "nothing to see here"),
        ("actor_id", "someone-else"),
        ("action", "member.read"),
        ("member_id", "m" + "9" * 25),
        ("outcome", "denied"),
    ],
)
def test_changing_any_field_of_an_entry_directly_in_the_database_is_detected(
    chain: Runtime, execute_sql: Callable[..., Any], column: str, value: str
) -> None:
    execute_sql(f"UPDATE audit_log SET {column} = :v WHERE seq = 3", v=value)
    result = verify(chain)
    assert not result.ok
    assert "entry 3: content was changed" in result.problems


def test_changing_an_entry_and_its_hash_breaks_the_link_to_the_next_entry(
    chain: Runtime, execute_sql: Callable[..., Any]
) -> None:
    execute_sql("UPDATE audit_log SET reason = 'forged', entry_hash = :h WHERE seq = 3", h="f" * 64)
    result = verify(chain)
    assert "entry 4: does not follow its predecessor" in result.problems


def test_deleting_an_entry_in_the_middle_is_detected(
    chain: Runtime, execute_sql: Callable[..., Any]
) -> None:
    execute_sql("DELETE FROM audit_log WHERE seq = 3")
    result = verify(chain)
    assert not result.ok
    assert any(p.startswith("entry 4: expected sequence 3") for p in result.problems)
    assert "entry 4: does not follow its predecessor" in result.problems


def test_swapping_the_content_of_two_entries_is_detected(
    chain: Runtime, execute_sql: Callable[..., Any]
) -> None:
    columns = ", ".join(SWAPPED)
    two, three = (
        dict(zip(SWAPPED, row, strict=True))
        for row in execute_sql(f"SELECT {columns} FROM audit_log WHERE seq IN (2, 3) ORDER BY seq")
    )
    assignments = ", ".join(f"{c} = :{c}" for c in SWAPPED)
    execute_sql(f"UPDATE audit_log SET {assignments} WHERE seq = 2", **three)
    execute_sql(f"UPDATE audit_log SET {assignments} WHERE seq = 3", **two)
    result = verify(chain)
    assert not result.ok
    assert "entry 2: does not follow its predecessor" in result.problems


def test_swapping_the_sequence_numbers_of_two_entries_is_detected(
    chain: Runtime, execute_sql: Callable[..., Any]
) -> None:
    execute_sql("UPDATE audit_log SET seq = 1000 WHERE seq = 4")
    execute_sql("UPDATE audit_log SET seq = 4 WHERE seq = 5")
    execute_sql("UPDATE audit_log SET seq = 5 WHERE seq = 1000")
    result = verify(chain)
    assert not result.ok
    assert "entry 4: content was changed" in result.problems


def test_deleting_the_newest_entry_is_detected(
    chain: Runtime, execute_sql: Callable[..., Any]
) -> None:
    execute_sql(f"DELETE FROM audit_log WHERE seq = {ENTRIES}")
    result = verify(chain)
    assert not result.ok
    assert result.problems == [
        f"the newest entry should be {ENTRIES}, found {ENTRIES - 1} (entries removed at the end)"
    ]


def test_deleting_every_entry_is_detected(chain: Runtime, execute_sql: Callable[..., Any]) -> None:
    execute_sql("DELETE FROM audit_log")
    assert not verify(chain).ok


def test_deleting_the_chain_head_is_detected(
    chain: Runtime, execute_sql: Callable[..., Any]
) -> None:
    execute_sql("DELETE FROM audit_head")
    assert verify(chain).problems == ["the chain head is missing"]


def test_appending_continues_the_chain_after_verification(chain: Runtime, admin: Actor) -> None:
    with transaction(chain.sessions) as s:
        entry = audit.record(s, admin, "test.after")
    assert entry.seq == ENTRIES + 1
    assert verify(chain).ok


# --------------------------------------------------------------------------- CLI
def test_cli_audit_verify_exits_zero_on_an_intact_log(
    chain: Runtime, cli: Callable[..., Any]
) -> None:
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"audit log intact: {ENTRIES} entries verified" in result.stdout


def test_cli_audit_verify_exits_non_zero_and_names_the_entry_on_tamper(
    chain: Runtime, cli: Callable[..., Any], execute_sql: Callable[..., Any]
) -> None:
    execute_sql("UPDATE audit_log SET reason = 'rewritten' WHERE seq = 2")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "tampered:" in result.stderr and "entry 2: content was changed" in result.stderr
    as_json = cli("audit", "verify", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["checked"] == ENTRIES


def test_cli_audit_verify_exits_non_zero_when_the_newest_entry_is_deleted(
    chain: Runtime, cli: Callable[..., Any], execute_sql: Callable[..., Any]
) -> None:
    execute_sql(f"DELETE FROM audit_log WHERE seq = {ENTRIES}")
    assert cli("audit", "verify").exit_code == 1


@pytest.fixture
def read_member(
    seeded: Runtime, make_order: Any, person: Any, ingest_orders: Any, admin: Actor
) -> str:
    """A member whose profile was read once by admin and once by a store's staff."""
    ingest_orders(seeded, [make_order(person(21)), make_order(person(22))])
    staff = Actor(kind="api_key", id="key-staff-7", role="staff", staff_id="s7", store_code="BJ001")
    with transaction(seeded.sessions) as s:
        (member_id,) = find_member_ids(s, seeded.keyring, person(21).phone)
        (other_id,) = find_member_ids(s, seeded.keyring, person(22).phone)
        read_profile(s, seeded.keyring, member_id, actor=admin, reason="front desk lookup")
        read_profile(s, seeded.keyring, member_id, actor=staff)
        read_profile(s, seeded.keyring, other_id, actor=staff)
    return member_id


def test_cli_audit_show_member_lists_who_read_the_profile(
    read_member: str, cli: Callable[..., Any]
) -> None:
    result = cli("audit", "show", "--member", read_member, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    reads = [r for r in rows if r["action"] == "member.read"]
    assert [r["actor"] for r in reads] == ["api_key:key-staff-7", "cli:tester"]  # newest first
    assert {r["member"] for r in rows} == {read_member}
    assert reads[1]["reason"] == "front desk lookup"


def test_cli_audit_show_actor_lists_only_that_actors_entries(
    read_member: str, cli: Callable[..., Any]
) -> None:
    result = cli("audit", "show", "--actor", "key-staff-7", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 2
    assert {r["actor"] for r in rows} == {"api_key:key-staff-7"}
    assert {r["action"] for r in rows} == {"member.read"}


def test_cli_audit_show_without_member_or_actor_is_a_usage_error(
    seeded: Runtime, cli: Callable[..., Any]
) -> None:
    result = cli("audit", "show")
    assert result.exit_code == 65
    assert "--member/--actor" in result.stderr


# --------------------------------------------------------------------------- neutralising
def test_control_characters_in_a_reason_and_actor_are_neutralised_and_the_chain_holds(
    seeded: Runtime,
) -> None:
    forged = "ok\n2026-01-01 INFO audit erased nothing\x1b[2J\r\u2028"
    actor = Actor(kind="api_key", id="evil\nid", role="admin")
    with transaction(seeded.sessions) as s:
        audit.record(s, actor, "test.injection", reason=forged)
    with transaction(seeded.sessions) as s:
        (entry,) = s.query(AuditEntry).all()
    assert entry.reason == "ok\\x0a2026-01-01 INFO audit erased nothing\\x1b[2J\\x0d\\x2028"
    assert entry.actor_id == "evil\\x0aid"
    assert verify(seeded).ok


def test_neutralise_escapes_every_control_character_and_keeps_the_rest() -> None:
    assert neutralise("a\nb") == "a\\x0ab"
    assert neutralise("tab\there\x00\x7f\x85") == "tab\\x09here\\x00\\x7f\\x85"
    assert neutralise("王小明 ok") == "王小明 ok"
    line = neutralise("".join(chr(c) for c in range(0x20)) + "\u2028\u2029")
    assert line.isprintable()


def test_neutralising_formatter_keeps_one_record_on_one_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(NeutralisingFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("memberops.tests.privacy.neutralise")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("lookup for %s failed", "x\nINFO forged entry\x1b[31m")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert output.count("\n") == 1  # only the handler's terminator
    assert "\x1b" not in output
    assert output == "WARNING lookup for x\\x0aINFO forged entry\\x1b[31m failed\n"


# --------------------------------------------------------------------------- every hashed field
AT_TAMPER = "at"
TAMPERED_VALUES: dict[str, Any] = {
    "seq": 1000,
    AT_TAMPER: None,  # the stored time plus one second, set in the test
    "actor_kind": "api_key",
    "actor_id": "someone-else",
    "role": "staff",
    "staff_id": "w-99",
    "store_code": "SH001",
    "action": "member.read",
    "member_id": "m" + "9" * 25,
    "fields": ["phone"],
    "reason": "nothing to see here",
    "outcome": "denied",
    "prev_hash": "e" * 64,
}


def tamper(runtime: Runtime, at_seq: int, **values: Any) -> None:
    """Change a stored entry behind the audit module's back (as a database user could)."""
    with transaction(runtime.sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == at_seq).values(**values))


def stored_entry(runtime: Runtime, seq: int) -> AuditEntry:
    with runtime.sessions() as s:
        entry = s.get(AuditEntry, seq)
        assert entry is not None
        return entry


def test_the_tamper_list_covers_every_column_of_an_entry() -> None:
    """A new column must be hashed and tampered with here, or changing it goes unnoticed."""
    columns = {c.name for c in AuditEntry.__table__.columns}
    assert set(TAMPERED_VALUES) == columns - {"entry_hash"}


@pytest.mark.parametrize("column", sorted(TAMPERED_VALUES))
def test_changing_any_hashed_field_of_an_entry_is_detected_as_changed_content(
    chain: Runtime, column: str
) -> None:
    value = TAMPERED_VALUES[column]
    if column == AT_TAMPER:
        value = stored_entry(chain, 3).at + timedelta(seconds=1)
    tamper(chain, 3, **{column: value})
    seq = value if column == "seq" else 3
    assert f"entry {seq}: content was changed" in verify(chain).problems


def test_rewriting_an_entry_and_repointing_its_successor_is_detected(chain: Runtime) -> None:
    """A forger who recomputes the entry's hash and fixes the next entry's link must also
    recompute that entry's hash, because it covers prev_hash, and so on to the head."""
    forged = stored_entry(chain, 3)
    forged.reason = "forged"
    forged_hash = audit._entry_hash(forged)
    tamper(chain, 3, reason="forged", entry_hash=forged_hash)
    tamper(chain, 4, prev_hash=forged_hash)
    assert verify(chain).problems == ["entry 4: content was changed"]


def forge_after(runtime: Runtime, prev: AuditEntry, seq: int) -> AuditEntry:
    entry = AuditEntry(
        seq=seq,
        at=prev.at,
        actor_kind="cli",
        actor_id="tester",
        role="admin",
        staff_id=None,
        store_code=None,
        action="member.erase",
        member_id="m" + "8" * 25,
        fields=[],
        reason="forged",
        outcome="ok",
        prev_hash=prev.entry_hash,
    )
    entry.entry_hash = audit._entry_hash(entry)
    with transaction(runtime.sessions) as s:
        s.add(entry)
    return entry


def test_an_entry_inserted_in_the_middle_is_detected(chain: Runtime) -> None:
    for seq in range(ENTRIES, 3, -1):  # make room at 4, newest first (seq is the key)
        tamper(chain, seq, seq=seq + 1)
    forge_after(chain, stored_entry(chain, 3), 4)
    newest = stored_entry(chain, ENTRIES + 1)
    with transaction(chain.sessions) as s:  # even with the head moved to the new end
        s.execute(update(AuditHead).values(seq=newest.seq, entry_hash=newest.entry_hash))
    problems = verify(chain).problems
    assert "entry 5: does not follow its predecessor" in problems


def test_an_entry_appended_without_the_head_is_detected(chain: Runtime) -> None:
    forge_after(chain, stored_entry(chain, ENTRIES), ENTRIES + 1)
    assert verify(chain).problems == [
        f"the newest entry should be {ENTRIES}, found {ENTRIES + 1} (entries removed at the end)"
    ]


def test_entries_recorded_at_commit_are_chained_in_order_when_the_transaction_commits(
    chain: Runtime, admin: Actor
) -> None:
    with transaction(chain.sessions) as s:
        audit.record_at_commit(s, admin, "test.deferred1", member_id="m" * 26)
        audit.record(s, admin, "test.at_once")
        audit.record_at_commit(s, admin, "test.deferred2", reason="later")
    with transaction(chain.sessions) as s:
        audit.record_at_commit(s, admin, "test.read_back")
        # A read of the chain in the same transaction sees what is still pending.
        assert audit.list_entries(s, limit=1)[0].action == "test.read_back"
    result = verify(chain)
    assert result.ok, result.problems
    with transaction(chain.sessions) as s:
        actions = [e.action for e in audit.list_entries(s, limit=4)]
    assert actions == ["test.read_back", "test.deferred2", "test.deferred1", "test.at_once"]


def test_entries_recorded_at_commit_vanish_with_a_rollback(chain: Runtime, admin: Actor) -> None:
    with pytest.raises(RuntimeError), transaction(chain.sessions) as s:
        audit.record_at_commit(s, admin, "test.rolled_back")
        raise RuntimeError("the caller failed")
    with transaction(chain.sessions) as s:
        assert audit.list_entries(s, actions=["test.rolled_back"]) == []
    assert verify(chain).checked == ENTRIES


def test_concurrent_writers_recording_at_commit_keep_one_verifiable_chain(
    chain: Runtime, admin: Actor
) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                with transaction(chain.sessions) as s:
                    audit.record_at_commit(s, admin, f"test.concurrent{n}", reason=str(i))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = verify(chain)
    assert result.ok, result.problems
    assert result.checked == ENTRIES + 20
