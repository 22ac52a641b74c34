"""Opening the key ring against a database, and rotating keys.

The database keeps each key's id and one-way fingerprint (never the key). At start-up
every key the data depends on must be present with a matching fingerprint, so a missing
or wrong key stops memberops with a clear message instead of producing garbage.

Rotation adds fresh keys, makes them active, then re-encrypts and re-indexes every row in
batches, each batch its own transaction. Reads use whichever key a row names and lookups
try every index key, so the system keeps working throughout; an interrupted rotation is
finished by running it again (rows already on the active keys are skipped).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from memberops.actor import Actor
from memberops.db import PURGE_FREED_PAGES, Base, table_of, transaction
from memberops.identity.models import Identifier, MergeRecord
from memberops.members.models import ENCRYPTED_MEMBER_FIELDS
from memberops.privacy import audit
from memberops.privacy.crypto import KeyRing
from memberops.privacy.key_records import check_keys
from memberops.privacy.models import KeyRecord

__all__ = ["RotationProgress", "add_new_keys", "encrypted_columns", "rotate"]


def add_new_keys(keyring: KeyRing) -> KeyRing:
    """A key ring with one fresh encryption key and one fresh index key, made active."""
    n = 1 + max(
        [int(k[1:]) for k in [*keyring.encryption_keys, *keyring.index_keys] if k[1:].isdigit()]
        or [0]
    )
    enc_id, idx_id = f"e{n}", f"i{n}"
    return KeyRing(
        encryption_keys={**keyring.encryption_keys, enc_id: secrets.token_bytes(32)},
        index_keys={**keyring.index_keys, idx_id: secrets.token_bytes(32)},
        active_encryption_id=enc_id,
        active_index_id=idx_id,
    )


def encrypted_columns() -> Iterator[tuple[type[Base], str]]:
    """Every (model, column) holding ciphertext, declared through `__encrypted__`."""
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        for column in getattr(cls, "__encrypted__", ()):
            yield cls, column


@dataclass
class RotationProgress:
    total: int
    done: int = 0


def _pending_count(session: Session, keyring: KeyRing) -> int:
    total = 0
    prefix = f"{keyring.active_encryption_id}:"
    for model, column in encrypted_columns():
        col = getattr(model, column)
        total += (
            session.scalar(
                select(func.count())
                .select_from(model)
                .where(col.is_not(None), ~col.startswith(prefix))
            )
            or 0
        )
    # Identifiers re-encrypted above are re-indexed in the same step; only those already
    # under the active encryption key but an old index key need a pass of their own.
    total += (
        session.scalar(
            select(func.count())
            .select_from(Identifier)
            .where(
                Identifier.index_key_id != keyring.active_index_id,
                Identifier.value_enc.startswith(prefix),
            )
        )
        or 0
    )
    total += sum(1 for _ in _stale_merge_snapshots(session, keyring))
    return total


def _stale_merge_snapshots(session: Session, keyring: KeyRing) -> Iterator[MergeRecord]:
    """Merge records whose saved survivor fields are under an old encryption key."""
    prefix = f"{keyring.active_encryption_id}:"
    for record in session.scalars(select(MergeRecord).where(MergeRecord.status == "active")):
        before = record.survivor_before or {}
        if any(
            isinstance(before.get(column), str) and not before[column].startswith(prefix)
            for column in ENCRYPTED_MEMBER_FIELDS
        ):
            yield record


def _reencrypt_merge_snapshots(factory: sessionmaker[Session], keyring: KeyRing) -> int:
    """The survivor fields a merge saved for its undo are personal data too."""
    with transaction(factory) as session:
        done = 0
        for record in list(_stale_merge_snapshots(session, keyring)):
            before = dict(record.survivor_before)
            for column in ENCRYPTED_MEMBER_FIELDS:
                token = before.get(column)
                if isinstance(token, str):
                    plain = keyring.decrypt(
                        token, table="members", column=column, row_id=record.survivor_id
                    )
                    before[column] = keyring.encrypt(
                        plain, table="members", column=column, row_id=record.survivor_id
                    )
            record.survivor_before = before
            done += 1
    return done


def rotate(
    factory: sessionmaker[Session],
    keyring: KeyRing,
    *,
    actor: Actor,
    batch_size: int = 500,
    on_progress: Callable[[RotationProgress], None] | None = None,
    stop_after_batches: int | None = None,
) -> RotationProgress:
    """Re-encrypt and re-index everything not yet under the active keys (resumable)."""
    with transaction(factory) as session:
        check_keys(session, keyring)
        progress = RotationProgress(total=_pending_count(session, keyring))
        audit.record(
            session,
            actor,
            "keys.rotate.start",
            reason=f"to {keyring.active_encryption_id}/{keyring.active_index_id}",
        )
    batches = 0
    prefix = f"{keyring.active_encryption_id}:"
    for model, column in encrypted_columns():
        col = getattr(model, column)
        (pk,) = table_of(model).primary_key.columns
        table = model.__tablename__
        while True:
            with transaction(factory) as session:
                rows = session.execute(
                    select(pk, col)
                    .where(col.is_not(None), ~col.startswith(prefix))
                    .limit(batch_size)
                ).all()
                extra: dict[str, dict[str, str]] = {}
                for row_id_value, token_value in rows:
                    row_id, token = str(row_id_value), str(token_value)
                    plain = keyring.decrypt(token, table=table, column=column, row_id=row_id)
                    values: dict[str, str] = {
                        column: keyring.encrypt(plain, table=table, column=column, row_id=row_id)
                    }
                    if model is Identifier:
                        kind = session.scalar(
                            select(Identifier.kind).where(Identifier.id == row_id)
                        )
                        values["blind_index"] = keyring.blind_index(str(kind), plain)
                        values["index_key_id"] = keyring.active_index_id
                    extra[row_id] = values
                for row_id, values in extra.items():
                    session.execute(update(model).where(pk == row_id).values(**values))
            if not rows:
                break
            progress.done += len(rows)
            batches += 1
            if on_progress:
                on_progress(progress)
            if stop_after_batches is not None and batches >= stop_after_batches:
                return progress
    # Identifiers already encrypted under the active key but indexed under an old one.
    while True:
        with transaction(factory) as session:
            rows = session.execute(
                select(Identifier.id, Identifier.kind, Identifier.value_enc)
                .where(Identifier.index_key_id != keyring.active_index_id)
                .limit(batch_size)
            ).all()
            for row_id, kind, token in rows:
                plain = keyring.decrypt(
                    token, table="identifiers", column="value_enc", row_id=row_id
                )
                session.execute(
                    update(Identifier)
                    .where(Identifier.id == row_id)
                    .values(
                        blind_index=keyring.blind_index(kind, plain),
                        index_key_id=keyring.active_index_id,
                    )
                )
        if not rows:
            break
        progress.done += len(rows)
        if on_progress:
            on_progress(progress)
    progress.done += _reencrypt_merge_snapshots(factory, keyring)
    if on_progress:
        on_progress(progress)
    with transaction(factory) as session:
        # Old page images holding retired-key ciphertexts must leave the disk as well.
        session.info[PURGE_FREED_PAGES] = True
        for record in session.scalars(
            select(KeyRecord).where(
                or_(
                    (KeyRecord.kind == "encryption")
                    & (KeyRecord.key_id != keyring.active_encryption_id),
                    (KeyRecord.kind == "index") & (KeyRecord.key_id != keyring.active_index_id),
                )
            )
        ):
            record.status = "retired"
        audit.record(
            session,
            actor,
            "keys.rotate.finish",
            reason=f"{progress.done} values now under {keyring.active_encryption_id}/"
            f"{keyring.active_index_id}",
        )
    return progress
