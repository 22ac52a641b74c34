"""Which keys the data was written with: checked on every start, so a missing or swapped
key fails clearly instead of reading ciphertext as garbage."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.errors import ConfigurationError
from memberops.privacy.crypto import KeyRing
from memberops.privacy.models import KeyRecord

__all__ = ["check_keys"]


def check_keys(session: Session, keyring: KeyRing) -> None:
    """Fail clearly if a key the data needs is missing or different; register new keys."""
    records = {(r.kind, r.key_id): r for r in session.scalars(select(KeyRecord))}
    for (kind, key_id), record in records.items():
        if record.status == "retired":
            continue
        keys = keyring.encryption_keys if kind == "encryption" else keyring.index_keys
        if key_id not in keys:
            raise ConfigurationError(
                f"the database needs {kind} key {key_id!r}, which is not configured"
                " (set MEMBEROPS_KEYS or restore the key file)"
            )
        if keyring.fingerprint(kind, key_id) != record.fingerprint:
            raise ConfigurationError(
                f"{kind} key {key_id!r} does not match the key this database was written with"
            )
    for kind, keys in (("encryption", keyring.encryption_keys), ("index", keyring.index_keys)):
        for key_id in keys:
            if (kind, key_id) not in records:
                session.add(
                    KeyRecord(
                        kind=kind, key_id=key_id, fingerprint=keyring.fingerprint(kind, key_id)
                    )
                )
    session.flush()
