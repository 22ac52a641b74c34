"""Key rotation: batched, interruptible, resumable, readable throughout (issue item 3)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from memberops.actor import Actor
from memberops.db import Base, transaction
from memberops.identity.merges import merge_members
from memberops.identity.models import Identifier
from memberops.identity.service import find_member_ids
from memberops.members.models import Member
from memberops.members.service import decrypt_basic, read_profile
from memberops.privacy import audit
from memberops.privacy.crypto import KeyRing, load_keyring
from memberops.privacy.keys import add_new_keys, rotate
from memberops.privacy.models import KeyRecord
from memberops.runtime import Runtime, open_runtime

PEOPLE = 200
ON_SQLITE = not os.environ.get("MEMBEROPS_TEST_DATABASE_URL")


def key_state(runtime: Runtime) -> dict[str, Counter[str]]:
    """Which key ids the stored values are under, per kind of value."""
    with transaction(runtime.sessions) as s:
        names = [KeyRing.key_id_of(t) for t in s.scalars(select(Member.name_enc)) if t]
        idents = s.execute(select(Identifier.value_enc, Identifier.index_key_id)).all()
        records = {f"{r.kind}:{r.key_id}": r.status for r in s.scalars(select(KeyRecord))}
    return {
        "names": Counter(names),
        "identifier_values": Counter(KeyRing.key_id_of(v) for v, _ in idents),
        "identifier_indexes": Counter(i for _, i in idents),
        "records": Counter(f"{k}={v}" for k, v in records.items()),
    }


def identifier_owner_numbers(runtime: Runtime, keyring: KeyRing) -> dict[str, int]:
    """Phone identifier index key id -> a person number holding a phone indexed under it."""
    out: dict[str, int] = {}
    with transaction(runtime.sessions) as s:
        for row in s.scalars(select(Identifier).where(Identifier.kind == "phone")):
            phone = keyring.decrypt(
                row.value_enc, table="identifiers", column="value_enc", row_id=row.id
            )
            out.setdefault(row.index_key_id, int(phone[-8:]))
    return out


@pytest.fixture
def populated(seeded: Runtime, make_order: Any, person: Any, ingest_orders: Any) -> list[Any]:
    """200 members, each with a name, a verified phone and a card: 600 encrypted values."""
    people = [person(1000 + n) for n in range(PEOPLE)]
    report = ingest_orders(seeded, [make_order(p) for p in people])
    assert report.members_created == PEOPLE
    return people


def assert_everyone_readable(
    runtime: Runtime, keyring: KeyRing, people: list[Any], admin: Actor, *, sample: int = 1
) -> None:
    with transaction(runtime.sessions) as s:
        for p in people[::sample]:
            found = find_member_ids(s, keyring, p.phone)
            assert len(found) == 1, (p.n, found)
            assert find_member_ids(s, keyring, p.card) == found
            view = read_profile(s, keyring, found[0], actor=admin)
            assert view["basic"]["name"] == p.name
            assert {i["value"] for i in view["identifiers"]} == {p.phone_e164, p.card}


def test_interrupted_rotation_leaves_mixed_keys_and_everything_stays_readable_and_findable(
    seeded: Runtime,
    admin: Actor,
    populated: list[Any],
    make_order: Any,
    person: Any,
    ingest_orders: Any,
) -> None:
    new = add_new_keys(seeded.keyring)
    assert (new.active_encryption_id, new.active_index_id) == ("e2", "i2")
    seen_mixed: set[str] = set()
    reingested = False
    for _step in range(100):
        progress = rotate(seeded.sessions, new, actor=admin, batch_size=50, stop_after_batches=1)
        state = key_state(seeded)
        if "encryption:e1=retired" in state["records"]:
            break
        assert progress.done == 50  # stopped after exactly one batch
        mixed = {
            "names": {"e1", "e2"},
            "identifier_values": {"e1", "e2"},
            "identifier_indexes": {"i1", "i2"},
        }
        seen_mixed |= {k for k, both in mixed.items() if set(state[k]) == both}
        assert_everyone_readable(seeded, new, populated, admin, sample=9)
        if not reingested and set(state["identifier_indexes"]) == {"i1", "i2"}:
            # A till sends the same phones again mid-rotation, one per index key.
            owners = identifier_owner_numbers(seeded, new)
            again = [make_order(person(owners[k]), with_card=False) for k in ("i1", "i2")]
            before = sum(state["identifier_values"].values())
            report = ingest_orders(seeded, again, keyring=new)
            assert report.members_created == 0 and report.reviews == 0
            with transaction(seeded.sessions) as s:
                assert s.scalar(select(func.count()).select_from(Identifier)) == before
                for k in ("i1", "i2"):
                    p = person(owners[k])
                    (member_id,) = find_member_ids(s, new, p.card)
                    assert find_member_ids(s, new, p.phone) == [member_id]
            reingested = True
    else:
        pytest.fail("rotation never finished")
    assert seen_mixed == {"names", "identifier_values", "identifier_indexes"}
    assert reingested
    final = key_state(seeded)
    assert set(final["names"]) == {"e2"} and set(final["identifier_values"]) == {"e2"}
    assert set(final["identifier_indexes"]) == {"i2"}
    assert sorted(final["records"]) == [
        "encryption:e1=retired",
        "encryption:e2=active",
        "index:i1=retired",
        "index:i2=active",
    ]
    assert_everyone_readable(seeded, new, populated, admin)


def test_after_rotation_every_blind_index_is_the_new_keys_index_of_the_value(
    seeded: Runtime, admin: Actor, populated: list[Any]
) -> None:
    new = add_new_keys(seeded.keyring)
    progress = rotate(seeded.sessions, new, actor=admin, batch_size=64)
    assert progress.done == 3 * PEOPLE
    with transaction(seeded.sessions) as s:
        for row in s.scalars(select(Identifier)):
            plain = new.decrypt(
                row.value_enc, table="identifiers", column="value_enc", row_id=row.id
            )
            assert row.blind_index == new.blind_index(row.kind, plain)
            assert row.index_key_id == "i2"
        entries = audit.list_entries(s, actions=["keys.rotate.start", "keys.rotate.finish"])
        assert [e.action for e in entries] == ["keys.rotate.finish", "keys.rotate.start"]
        assert audit.verify_chain(s).ok


def test_the_progress_total_is_the_number_of_values_rotation_will_rewrite(
    seeded: Runtime, admin: Actor, populated: list[Any]
) -> None:
    reports: list[tuple[int, int]] = []
    progress = rotate(
        seeded.sessions,
        add_new_keys(seeded.keyring),
        actor=admin,
        batch_size=100,
        on_progress=lambda p: reports.append((p.done, p.total)),
    )
    assert progress.done == 3 * PEOPLE
    assert reports[-1] == (3 * PEOPLE, 3 * PEOPLE)


def test_running_rotation_again_when_done_changes_nothing(
    seeded: Runtime, admin: Actor, populated: list[Any]
) -> None:
    new = add_new_keys(seeded.keyring)
    rotate(seeded.sessions, new, actor=admin)
    with transaction(seeded.sessions) as s:
        before = sorted(s.scalars(select(Identifier.value_enc)))
    again = rotate(seeded.sessions, new, actor=admin)
    assert again.total == again.done == 0
    with transaction(seeded.sessions) as s:
        assert sorted(s.scalars(select(Identifier.value_enc))) == before


def test_after_rotation_the_old_keys_are_no_longer_needed(
    seeded: Runtime, admin: Actor, populated: list[Any]
) -> None:
    new = add_new_keys(seeded.keyring)
    rotate(seeded.sessions, new, actor=admin)
    seeded.close()
    material = new.to_material()
    material["encryption"] = {"e2": material["encryption"]["e2"]}  # type: ignore[index]
    material["index"] = {"i2": material["index"]["i2"]}  # type: ignore[index]
    only_new = replace(seeded.settings, keys_json=json.dumps(material))
    runtime = open_runtime(only_new)
    try:
        assert_everyone_readable(runtime, runtime.keyring, populated, admin, sample=10)
    finally:
        runtime.close()


@pytest.fixture
def rotated_with_a_merge(
    seeded: Runtime, admin: Actor, make_order: Any, person: Any, ingest_orders: Any
) -> Runtime:
    """A merge (whose undo record keeps the survivor's ciphertexts), then a full rotation."""
    ingest_orders(seeded, [make_order(person(2001)), make_order(person(2002), with_card=False)])
    with transaction(seeded.sessions) as s:
        (a,) = find_member_ids(s, seeded.keyring, person(2001).phone)
        (b,) = find_member_ids(s, seeded.keyring, person(2002).phone)
        merge_members(
            s,
            seeded.keyring,
            survivor_id=a,
            absorbed_id=b,
            evidence=["phone"],
            reason="same person",
            actor=admin,
        )
    rotate(seeded.sessions, add_new_keys(seeded.keyring), actor=admin)
    return seeded


OLD_TOKEN = re.compile(r"e1:[A-Za-z0-9+/]{16,}={0,2}")


def test_after_rotation_no_stored_value_anywhere_is_under_the_retired_key(
    rotated_with_a_merge: Runtime,
) -> None:
    stale: list[str] = []
    with rotated_with_a_merge.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                stale += [
                    f"{table.name}: {t}"
                    for t in OLD_TOKEN.findall(json.dumps(list(row), default=str))
                ]
    assert stale == []


def test_after_rotation_the_raw_database_holds_no_ciphertext_under_the_retired_key(
    rotated_with_a_merge: Runtime, database_dump: Callable[[], bytes]
) -> None:
    assert re.findall(OLD_TOKEN.pattern.encode(), database_dump()) == []


# --------------------------------------------------------------------------- CLI
def test_cli_keys_rotate_writes_new_active_keys_keeps_the_old_ones_and_rotates_everything(
    seeded: Runtime, populated: list[Any], cli: Callable[..., Any], admin: Actor
) -> None:
    result = cli("keys", "rotate", "--batch-size", "100", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "reencrypted": 3 * PEOPLE,
        "active_encryption_key": "e2",
        "active_index_key": "i2",
    }
    settings = seeded.settings
    keyring = load_keyring(keys_json=None, key_file=settings.key_file, create=False)
    assert set(keyring.encryption_keys) == {"e1", "e2"}
    assert set(keyring.index_keys) == {"i1", "i2"}
    assert keyring.encryption_keys["e1"] == seeded.keyring.encryption_keys["e1"]
    state = key_state(seeded)
    assert set(state["names"]) == {"e2"} and set(state["identifier_indexes"]) == {"i2"}
    assert_everyone_readable(seeded, keyring, populated, admin, sample=7)


def test_cli_keys_rotate_refuses_to_invent_keys_when_they_come_from_the_environment(
    seeded: Runtime, cli: Callable[..., Any]
) -> None:
    env_keys = seeded.settings.key_file.read_text()
    result = cli("keys", "rotate", env={"MEMBEROPS_KEYS": env_keys})
    assert result.exit_code == 65
    assert "keys rotate --resume" in result.stderr
    assert key_state(seeded)["records"] == Counter(["encryption:e1=active", "index:i1=active"])


# --------------------------------------------------------------------------- a real kill
KILL_PEOPLE = 1500  # 1,500 names + 3,000 identifiers = 4,500 values


def _rotated_count(db: Path, key_id: str) -> tuple[int, int]:
    with sqlite3.connect(db, timeout=30) as con:
        names, total_names = con.execute(
            "SELECT sum(name_enc LIKE ? || ':%'), count(name_enc) FROM members", (key_id,)
        ).fetchone()
        idents, total_idents = con.execute(
            "SELECT sum(value_enc LIKE ? || ':%'), count(*) FROM identifiers", (key_id,)
        ).fetchone()
    return int(names or 0) + int(idents or 0), int(total_names) + int(total_idents)


def test_keys_rotate_killed_halfway_resumes_and_ends_with_every_value_on_the_newest_key(
    sqlite_seeded: Runtime,
    admin: Actor,
    make_order: Any,
    person: Any,
    ingest_orders: Any,
    memberops_exe: str,
    subprocess_env: Callable[..., dict[str, str]],
) -> None:
    people = [person(5000 + n) for n in range(KILL_PEOPLE)]
    ingest_orders(sqlite_seeded, [make_order(p) for p in people])
    settings = sqlite_seeded.settings
    sqlite_seeded.close()
    db = Path(settings.database_url.split("///", 1)[1])
    env = subprocess_env(settings.home, settings.database_url)
    log = (settings.home / "rotate.log").open("wb")

    proc = subprocess.Popen(
        [memberops_exe, "keys", "rotate", "--batch-size", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    done, total = 0, 3 * KILL_PEOPLE
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            done, total = _rotated_count(db, "e2")
            if done >= 200:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "rotation finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == -signal.SIGKILL
    done, total = _rotated_count(db, "e2")
    assert total == 3 * KILL_PEOPLE
    assert 200 <= done < total, (done, total)

    keyring = load_keyring(keys_json=None, key_file=settings.key_file, create=False)
    assert keyring.active_encryption_id == "e2" and set(keyring.encryption_keys) == {"e1", "e2"}
    mid = open_runtime(settings, create_keys=False)
    try:  # killed mid-way: mixed keys, and still every value reads
        assert_everyone_readable(mid, mid.keyring, people, admin, sample=50)
    finally:
        mid.close()

    resumed = subprocess.run(
        [memberops_exe, "keys", "rotate", "--resume", "--json"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr.decode(errors="replace")
    report = json.loads(resumed.stdout)
    assert report["active_encryption_key"] == "e2" and report["active_index_key"] == "i2"
    assert _rotated_count(db, "e2") == (total, total)

    final = open_runtime(settings, create_keys=False)
    try:
        state = key_state(final)
        assert set(state["names"]) == {"e2"} and set(state["identifier_values"]) == {"e2"}
        assert set(state["identifier_indexes"]) == {"i2"}
        assert state["records"]["encryption:e1=retired"] == 1
        with transaction(final.sessions) as s:
            names = {decrypt_basic(final.keyring, m)["name"] for m in s.scalars(select(Member))}
            assert names == {p.name for p in people}
            for row in s.scalars(select(Identifier)):
                plain = final.keyring.decrypt(
                    row.value_enc, table="identifiers", column="value_enc", row_id=row.id
                )
                assert row.blind_index == final.keyring.blind_index(row.kind, plain)
            assert audit.verify_chain(s).ok
        assert_everyone_readable(final, final.keyring, people, admin, sample=25)
    finally:
        final.close()
