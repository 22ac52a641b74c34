"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for personal data.

Every ciphertext is bound to its table, column and row through the associated data, so a
ciphertext copied onto another row or column fails to decrypt instead of leaking a value
into the wrong profile. Each ciphertext names the key that made it, which lets reads
work with old and new keys while `memberops keys rotate` runs.

Exact lookups (phone, email, card, WeChat and app ids) go through a blind index: a keyed
HMAC of the normalised value under a key separate from the encryption key. Phone numbers
have low entropy (under 10^10 mainland mobiles), so the index key is as secret as the
encryption key: it lives in MEMBEROPS_KEYS or the 0600 key file, never in the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from memberops.errors import ConfigurationError, DecryptionError

__all__ = [
    "KeyRing",
    "generate_key_material",
    "load_keyring",
]

_NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[a-z][0-9]{1,6}$")
_KEY_BYTES = 32
_FINGERPRINT_LABEL = b"memberops key fingerprint v1"


def _b64decode_key(key_id: str, text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"key {key_id!r} is not valid base64") from exc
    if len(raw) != _KEY_BYTES:
        raise ConfigurationError(f"key {key_id!r} must be {_KEY_BYTES} bytes, got {len(raw)}")
    return raw


def generate_key_material(*, encryption_id: str = "e1", index_id: str = "i1") -> dict[str, object]:
    """Fresh random keys in the MEMBEROPS_KEYS / key-file JSON shape."""
    return {
        "encryption": {encryption_id: base64.b64encode(secrets.token_bytes(32)).decode()},
        "index": {index_id: base64.b64encode(secrets.token_bytes(32)).decode()},
        "active_encryption": encryption_id,
        "active_index": index_id,
    }


@dataclass
class KeyRing:
    """The encryption and blind-index keys in force, one of each kind active."""

    encryption_keys: dict[str, bytes]
    index_keys: dict[str, bytes]
    active_encryption_id: str
    active_index_id: str
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    _macs: dict[str, hmac.HMAC] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.active_encryption_id not in self.encryption_keys:
            raise ConfigurationError(
                f"active encryption key {self.active_encryption_id!r} is not among the keys"
            )
        if self.active_index_id not in self.index_keys:
            raise ConfigurationError(
                f"active index key {self.active_index_id!r} is not among the keys"
            )
        self._aead = {kid: AESGCM(key) for kid, key in self.encryption_keys.items()}
        # A keyed HMAC object per index key, copied per use: skips re-keying every call.
        self._macs = {
            kid: hmac.new(key, digestmod=hashlib.sha256) for kid, key in self.index_keys.items()
        }

    def __repr__(self) -> str:  # never print key bytes
        return (
            f"KeyRing(encryption={sorted(self.encryption_keys)}, index={sorted(self.index_keys)},"
            f" active=({self.active_encryption_id!r}, {self.active_index_id!r}))"
        )

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_material(cls, material: Mapping[str, object]) -> KeyRing:
        """Build from the JSON shape produced by `generate_key_material`."""
        try:
            enc = material["encryption"]
            idx = material["index"]
            active_enc = material["active_encryption"]
            active_idx = material["active_index"]
        except KeyError as exc:
            raise ConfigurationError(f"key material lacks {exc.args[0]!r}") from exc
        if not isinstance(enc, dict) or not isinstance(idx, dict) or not enc or not idx:
            raise ConfigurationError("key material needs non-empty 'encryption' and 'index' maps")
        return cls(
            encryption_keys={str(k): _b64decode_key(str(k), str(v)) for k, v in enc.items()},
            index_keys={str(k): _b64decode_key(str(k), str(v)) for k, v in idx.items()},
            active_encryption_id=str(active_enc),
            active_index_id=str(active_idx),
        )

    def to_material(self) -> dict[str, object]:
        """The JSON shape, for writing the key file."""
        return {
            "encryption": {
                k: base64.b64encode(v).decode() for k, v in self.encryption_keys.items()
            },
            "index": {k: base64.b64encode(v).decode() for k, v in self.index_keys.items()},
            "active_encryption": self.active_encryption_id,
            "active_index": self.active_index_id,
        }

    # -- fingerprints let start-up detect a wrong key without storing any key ----------
    def fingerprint(self, kind: str, key_id: str) -> str:
        """A one-way fingerprint of a key, safe to keep in the database."""
        keys = self.encryption_keys if kind == "encryption" else self.index_keys
        return hmac.new(keys[key_id], _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()

    # -- encryption --------------------------------------------------------------------
    @staticmethod
    def associated_data(table: str, column: str, row_id: str) -> bytes:
        """The context a ciphertext is bound to."""
        return f"{table}\x1f{column}\x1f{row_id}".encode()

    def encrypt(self, plaintext: str, *, table: str, column: str, row_id: str) -> str:
        """Encrypt under the active key: `<key id>:<base64(nonce || ciphertext || tag)>`."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        aad = self.associated_data(table, column, row_id)
        sealed = self._aead[self.active_encryption_id].encrypt(nonce, plaintext.encode(), aad)
        return f"{self.active_encryption_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, table: str, column: str, row_id: str) -> str:
        """Open a ciphertext made for exactly this table, column and row."""
        key_id, separator, body = token.partition(":")
        if not separator or not body or not _KEY_ID.match(key_id):
            # Never echo the value: it may be plaintext that was never encrypted.
            raise DecryptionError(f"{table}.{column} of row {row_id} is not a ciphertext")
        aead = self._aead.get(key_id)
        if aead is None:
            raise DecryptionError(
                f"{table}.{column} of row {row_id} is encrypted under key {key_id!r},"
                " which is not configured (set MEMBEROPS_KEYS or restore the key file)"
            )
        try:
            raw = base64.b64decode(body, validate=True)
            plain = aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self.associated_data(table, column, row_id)
            )
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError(
                f"{table}.{column} of row {row_id} does not decrypt: wrong key, or the"
                " ciphertext was moved from another row"
            ) from exc
        return plain.decode()

    @staticmethod
    def key_id_of(token: str) -> str:
        """The key id a ciphertext was made with."""
        return token.partition(":")[0]

    # -- blind index -------------------------------------------------------------------
    def blind_index(self, kind: str, normalised: str, *, key_id: str | None = None) -> str:
        """HMAC-SHA256 of `kind:value` under an index key (the active one by default)."""
        mac = self._macs[key_id or self.active_index_id].copy()
        mac.update(f"{kind}\x1f{normalised}".encode())
        return mac.hexdigest()

    def blind_indexes(self, kind: str, normalised: str) -> list[str]:
        """The value's index under every configured key, for lookups during rotation."""
        return [self.blind_index(kind, normalised, key_id=k) for k in self.index_keys]


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def load_keyring(*, keys_json: str | None, key_file: Path, create: bool) -> KeyRing:
    """Keys from MEMBEROPS_KEYS if set, else from the key file (created when `create`)."""
    if keys_json:
        try:
            material = json.loads(keys_json)
        except json.JSONDecodeError as exc:
            raise ConfigurationError("MEMBEROPS_KEYS is not valid JSON") from exc
        if not isinstance(material, dict):
            raise ConfigurationError("MEMBEROPS_KEYS must be a JSON object")
        return KeyRing.from_material(material)
    if not key_file.exists():
        if not create:
            raise ConfigurationError(
                f"no keys: set MEMBEROPS_KEYS or restore the key file {key_file}"
            )
        _write_private(key_file, json.dumps(generate_key_material(), indent=2))
    mode = key_file.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigurationError(
            f"key file {key_file} is readable by others (mode {mode:o}); run chmod 600"
        )
    try:
        material = json.loads(key_file.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"key file {key_file} is not valid JSON") from exc
    return KeyRing.from_material(material)


def save_keyring(keyring: KeyRing, key_file: Path) -> None:
    """Write the key file atomically with mode 0600 (used by rotation)."""
    tmp = key_file.with_suffix(".tmp")
    _write_private(tmp, json.dumps(keyring.to_material(), indent=2))
    os.replace(tmp, key_file)
