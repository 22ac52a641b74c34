"""Encryption at rest, blind indexes, masks and key handling (issue items 1 and 2)."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from memberops.config import Settings
from memberops.db import transaction
from memberops.errors import ConfigurationError, DecryptionError
from memberops.identity.models import Identifier
from memberops.identity.rules import mask, normalise
from memberops.members.models import Member
from memberops.privacy.crypto import KeyRing, generate_key_material, load_keyring
from memberops.privacy.models import KeyRecord
from memberops.runtime import Runtime, open_runtime

KEYRING = KeyRing.from_material(generate_key_material())
PLAIN = "王小明"
PHONE = "+8613912345678"


def _seal(value: str = PLAIN, **where: str) -> str:
    ctx = {"table": "members", "column": "name_enc", "row_id": "row-17", **where}
    return KEYRING.encrypt(value, **ctx)


def _write_key_file(path: Path, material: dict[str, object], mode: int = 0o600) -> None:
    path.write_text(json.dumps(material))
    os.chmod(path, mode)


# --------------------------------------------------------------------------- round trip
def test_decrypt_returns_what_was_encrypted_for_the_same_table_column_and_row() -> None:
    token = _seal()
    assert KEYRING.decrypt(token, table="members", column="name_enc", row_id="row-17") == PLAIN


def test_ciphertext_does_not_contain_the_plaintext_and_differs_every_time() -> None:
    first, second = _seal(PHONE), _seal(PHONE)
    assert first != second  # a fresh nonce per encryption
    for token in (first, second):
        assert PHONE not in token and PHONE[3:] not in token
        assert PHONE.encode() not in base64.b64decode(token.partition(":")[2])


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    plaintext=st.text(),
    table=st.text(min_size=1, max_size=20),
    row_id=st.text(min_size=1, max_size=30),
)
def test_any_text_round_trips_through_encryption(plaintext: str, table: str, row_id: str) -> None:
    token = KEYRING.encrypt(plaintext, table=table, column="c", row_id=row_id)
    assert KEYRING.decrypt(token, table=table, column="c", row_id=row_id) == plaintext


# --------------------------------------------------------------------------- binding
@pytest.mark.parametrize(
    "moved_to",
    [
        {"row_id": "row-18"},
        {"column": "nickname_enc"},
        {"table": "labels", "column": "text_enc"},
    ],
    ids=["another row", "another column", "another table"],
)
def test_ciphertext_moved_elsewhere_fails_with_a_message_naming_the_place_not_the_value(
    moved_to: dict[str, str],
) -> None:
    token = _seal()
    target = {"table": "members", "column": "name_enc", "row_id": "row-17", **moved_to}
    with pytest.raises(DecryptionError) as caught:
        KEYRING.decrypt(token, **target)
    message = str(caught.value)
    assert f"{target['table']}.{target['column']} of row {target['row_id']}" in message
    assert "moved" in message
    assert PLAIN not in message and token not in message


def test_ciphertext_copied_onto_another_member_row_in_the_database_fails_to_decrypt(
    seeded: Runtime, make_order: Any, person: Any, ingest_orders: Any
) -> None:
    from memberops.members.service import decrypt_basic

    ingest_orders(seeded, [make_order(person(1)), make_order(person(2))])
    with transaction(seeded.sessions) as s:
        first, second = s.scalars(select(Member).order_by(Member.created_at, Member.id)).all()
        assert decrypt_basic(seeded.keyring, first)["name"] in (person(1).name, person(2).name)
        second.name_enc = first.name_enc
        with pytest.raises(DecryptionError, match=f"members.name_enc of row {second.id}"):
            decrypt_basic(seeded.keyring, second)
        s.rollback()


def test_a_flipped_byte_in_the_ciphertext_is_detected() -> None:
    token = _seal()
    key_id, _, body = token.partition(":")
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 0x01
    forged = f"{key_id}:{base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(DecryptionError, match="does not decrypt"):
        KEYRING.decrypt(forged, table="members", column="name_enc", row_id="row-17")


def test_decrypting_a_value_that_is_not_a_ciphertext_does_not_repeat_the_value() -> None:
    with pytest.raises(DecryptionError) as caught:
        KEYRING.decrypt(PHONE, table="identifiers", column="value_enc", row_id="row-17")
    assert "identifiers.value_enc of row row-17" in str(caught.value)
    assert PHONE not in str(caught.value)


# --------------------------------------------------------------------------- key ids
def test_ciphertext_names_the_key_that_made_it_and_old_keys_still_open_it() -> None:
    old_token = _seal()
    assert old_token.startswith("e1:") and KeyRing.key_id_of(old_token) == "e1"
    material = KEYRING.to_material()
    material["encryption"]["e2"] = base64.b64encode(os.urandom(32)).decode()  # type: ignore[index]
    material["active_encryption"] = "e2"
    rotated = KeyRing.from_material(material)
    new_token = rotated.encrypt(PLAIN, table="members", column="name_enc", row_id="row-17")
    assert KeyRing.key_id_of(new_token) == "e2"
    for token in (old_token, new_token):
        assert rotated.decrypt(token, table="members", column="name_enc", row_id="row-17") == PLAIN


def test_ciphertext_under_an_unconfigured_key_fails_naming_the_key() -> None:
    other = KeyRing.from_material(generate_key_material(encryption_id="e9", index_id="i9"))
    token = other.encrypt(PLAIN, table="members", column="name_enc", row_id="row-17")
    with pytest.raises(DecryptionError, match="key 'e9', which is not configured") as caught:
        KEYRING.decrypt(token, table="members", column="name_enc", row_id="row-17")
    assert PLAIN not in str(caught.value)


def test_a_key_of_the_same_id_but_other_bytes_cannot_open_the_ciphertext() -> None:
    impostor = KeyRing.from_material(generate_key_material())
    with pytest.raises(DecryptionError, match="wrong key"):
        impostor.decrypt(_seal(), table="members", column="name_enc", row_id="row-17")


def test_keyring_repr_never_shows_key_material() -> None:
    text = repr(KEYRING)
    for key in (*KEYRING.encryption_keys.values(), *KEYRING.index_keys.values()):
        assert base64.b64encode(key).decode() not in text
        assert key.hex() not in text


# --------------------------------------------------------------------------- blind index
def test_blind_index_is_deterministic_and_differs_per_key_and_per_kind() -> None:
    other = KeyRing.from_material(generate_key_material())
    index = KEYRING.blind_index("phone", PHONE)
    assert index == KEYRING.blind_index("phone", PHONE)
    assert len(index) == 64 and int(index, 16) >= 0
    assert index != other.blind_index("phone", PHONE)  # per key
    assert index != KEYRING.blind_index("card_no", PHONE)  # per kind
    assert index != KEYRING.blind_index("phone", "+8613912345679")
    assert PHONE not in index and PHONE[3:] not in index


def test_blind_index_uses_the_index_key_not_the_encryption_key() -> None:
    material = KEYRING.to_material()
    material["index"] = {"i1": material["encryption"]["e1"]}  # type: ignore[index]
    same_enc_key_as_index = KeyRing.from_material(material)
    assert same_enc_key_as_index.blind_index("phone", PHONE) != KEYRING.blind_index("phone", PHONE)


def test_lookup_tries_every_configured_index_key() -> None:
    material = KEYRING.to_material()
    material["index"]["i2"] = base64.b64encode(os.urandom(32)).decode()  # type: ignore[index]
    material["active_index"] = "i2"
    rotated = KeyRing.from_material(material)
    assert set(rotated.blind_indexes("phone", PHONE)) == {
        KEYRING.blind_index("phone", PHONE),
        rotated.blind_index("phone", PHONE),
    }


def test_stored_identifiers_hold_only_ciphertext_and_the_blind_index_of_the_normalised_value(
    seeded: Runtime, make_order: Any, person: Any, ingest_orders: Any
) -> None:
    p = person(3)
    spelled = f"+86 {p.phone[:3]} {p.phone[3:7]} {p.phone[7:]}"
    ingest_orders(seeded, [make_order(p, phone=spelled, with_email=True)])
    keyring = seeded.keyring
    with transaction(seeded.sessions) as s:
        rows = {i.kind: i for i in s.scalars(select(Identifier))}
    assert set(rows) == {"phone", "card_no", "email"}
    expected = {"phone": p.phone_e164, "card_no": p.card, "email": p.email}
    for kind, row in rows.items():
        assert row.index_key_id == keyring.active_index_id
        assert row.blind_index == keyring.blind_index(kind, normalise(kind, expected[kind]))
        assert expected[kind] not in row.value_enc
        plain = keyring.decrypt(
            row.value_enc, table="identifiers", column="value_enc", row_id=row.id
        )
        assert plain == expected[kind]


# --------------------------------------------------------------------------- masks
@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("phone", "+8613812345678", "138****5678"),
        ("phone", "+85291234567", "852****4567"),
        ("email", "lily.wang@example.com", "l***@example.com"),
        ("card_no", "HD0012345678", "********5678"),
        ("wechat_unionid", "uABCDEFGH", "*****EFGH"),
        ("app_user_id", "U12", "***"),
    ],
)
def test_mask_shows_only_the_allowed_part(kind: str, value: str, masked: str) -> None:
    assert mask(kind, value) == masked


def test_masked_forms_are_derived_on_read_and_never_stored(
    seeded: Runtime,
    make_order: Any,
    person: Any,
    ingest_orders: Any,
    database_dump: Callable[[], bytes],
) -> None:
    from memberops.actor import Actor
    from memberops.identity.service import find_member_ids
    from memberops.members.service import read_profile

    p = person(4)
    ingest_orders(seeded, [make_order(p)])
    staff = Actor(kind="api_key", id="k1", role="staff", store_code="BJ001")
    with transaction(seeded.sessions) as s:
        (member_id,) = find_member_ids(s, seeded.keyring, p.phone)
        view = read_profile(s, seeded.keyring, member_id, actor=staff)
    # Staff see the service card: the phone masked, no other identifier.
    assert "identifiers" not in view
    assert view["phone"] == mask("phone", p.phone_e164) == f"{p.phone[:3]}****{p.phone[-4:]}"
    dump = database_dump()
    for masked in (view["phone"], mask("card_no", p.card)):
        assert masked.encode() not in dump


# --------------------------------------------------------------------------- key files
def test_key_file_is_created_with_mode_0600_on_first_start(settings: Settings) -> None:
    assert not settings.key_file.exists()
    runtime = open_runtime(settings)
    runtime.close()
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    material = json.loads(settings.key_file.read_text())
    assert KeyRing.from_material(material).active_encryption_id == "e1"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_key_file_readable_by_group_or_world_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "keys.json"
    _write_key_file(key_file, generate_key_material(), mode)
    with pytest.raises(ConfigurationError, match="readable by others") as caught:
        load_keyring(keys_json=None, key_file=key_file, create=False)
    assert "chmod 600" in str(caught.value)


def test_a_missing_key_file_without_create_fails_clearly_and_creates_nothing(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "keys.json"
    with pytest.raises(ConfigurationError, match="no keys: set MEMBEROPS_KEYS or restore"):
        load_keyring(keys_json=None, key_file=key_file, create=False)
    assert not key_file.exists()


def test_open_runtime_without_keys_and_without_create_fails_with_configuration_error(
    settings: Settings,
) -> None:
    with pytest.raises(ConfigurationError, match="no keys"):
        open_runtime(settings, create_keys=False)
    assert not settings.key_file.exists()


@pytest.mark.parametrize(
    "broken",
    ["not json", json.dumps({"encryption": {}}), json.dumps([1, 2])],
    ids=["not json", "incomplete", "not an object"],
)
def test_malformed_keys_in_the_environment_fail_with_configuration_error(broken: str) -> None:
    with pytest.raises(ConfigurationError, match=r"MEMBEROPS_KEYS|key material"):
        load_keyring(keys_json=broken, key_file=Path("/nonexistent/keys.json"), create=False)


def test_a_short_key_is_refused_without_printing_it() -> None:
    short = base64.b64encode(b"0123456789").decode()
    material = {**generate_key_material(), "encryption": {"e1": short}}
    with pytest.raises(ConfigurationError, match="must be 32 bytes") as caught:
        KeyRing.from_material(material)
    assert short not in str(caught.value)


@pytest.fixture
def written(seeded: Runtime, make_order: Any, person: Any, ingest_orders: Any) -> Settings:
    """A database with data written under the key file's keys; the runtime is closed."""
    ingest_orders(seeded, [make_order(person(5))])
    seeded.close()
    return seeded.settings


def test_a_different_key_file_fails_at_start_with_configuration_error(written: Settings) -> None:
    _write_key_file(written.key_file, generate_key_material())
    with pytest.raises(ConfigurationError, match="does not match the key this database") as err:
        open_runtime(written)
    assert not isinstance(err.value, DecryptionError)


def test_different_keys_in_memberops_keys_fail_at_start_with_configuration_error(
    written: Settings,
) -> None:
    env_keys = json.dumps(generate_key_material())
    with pytest.raises(ConfigurationError, match="does not match the key this database"):
        open_runtime(replace(written, keys_json=env_keys))


def test_memberops_keys_lacking_the_key_the_data_needs_fail_naming_that_key(
    written: Settings,
) -> None:
    env_keys = json.dumps(generate_key_material(encryption_id="e7", index_id="i7"))
    with pytest.raises(ConfigurationError, match="needs encryption key 'e1'"):
        open_runtime(replace(written, keys_json=env_keys))


def test_the_same_keys_through_memberops_keys_open_the_database(written: Settings) -> None:
    from memberops.members.service import decrypt_basic

    env_keys = written.key_file.read_text()
    runtime = open_runtime(replace(written, keys_json=env_keys, home=written.home / "elsewhere"))
    try:
        with transaction(runtime.sessions) as s:
            (member,) = s.scalars(select(Member)).all()
            assert decrypt_basic(runtime.keyring, member)["name"].startswith("测试顾客")
    finally:
        runtime.close()


def test_cli_start_with_a_lost_key_file_reports_the_missing_key_and_writes_no_new_one(
    written: Settings, cli: Callable[..., Any]
) -> None:
    written.key_file.unlink()
    result = cli("audit", "verify")
    assert result.exit_code == 78
    assert "restore the key file" in result.stderr
    assert not written.key_file.exists()


def test_keys_never_reach_the_database(
    seeded: Runtime,
    make_order: Any,
    person: Any,
    ingest_orders: Any,
    database_dump: Callable[[], bytes],
) -> None:
    ingest_orders(seeded, [make_order(person(n), with_email=True) for n in range(6, 16)])
    with transaction(seeded.sessions) as s:
        records = {(r.kind, r.key_id): r.fingerprint for r in s.scalars(select(KeyRecord))}
    assert set(records) == {("encryption", "e1"), ("index", "i1")}
    dump = database_dump()
    keyring = seeded.keyring
    for key in (*keyring.encryption_keys.values(), *keyring.index_keys.values()):
        for form in (key, base64.b64encode(key), key.hex().encode(), base64.urlsafe_b64encode(key)):
            assert form not in dump
    for fingerprint in records.values():
        assert fingerprint.encode() in dump  # fingerprints only: one-way, safe to keep
