"""Opening memberops: settings -> engine, schema migrations and the checked key ring.

The one place that turns `Settings` into live resources. CLI commands and the API call
`open_runtime` once at the edge and pass the pieces down.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from memberops.config import Settings
from memberops.db import (
    make_engine,
    make_read_session_factory,
    make_session_factory,
    transaction,
)
from memberops.errors import ConfigurationError
from memberops.privacy.crypto import KeyRing, load_keyring
from memberops.privacy.key_records import check_keys
from memberops.privacy.models import KeyRecord

__all__ = ["Runtime", "migrate", "open_runtime"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to run every start)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@dataclass
class Runtime:
    """Live resources for one process.

    `sessions` open writing transactions; `read_sessions` open read-only ones (with
    `memberops.db.read_transaction`), which on SQLite never wait for a writer.
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: KeyRing
    read_sessions: sessionmaker[Session] = field(init=False)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.read_sessions = make_read_session_factory(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def refresh_keyring(self, session: Session) -> KeyRing:
        """The key ring, reloaded first if the database names keys this process lacks.

        `memberops keys rotate` adds keys while servers run; a server that went on
        with its old ring would compute stale blind indexes and answer "no such member"
        for members who exist. One small query in the caller's session finds out; the
        reload reads the key file (or fails clearly when keys come from MEMBEROPS_KEYS,
        which only a restart can change) and checks every fingerprint before use. It
        writes nothing, so it is safe inside a read-only or an open writing transaction.
        """
        stored = {
            (kind, key_id): fingerprint
            for kind, key_id, fingerprint in session.execute(
                select(KeyRecord.kind, KeyRecord.key_id, KeyRecord.fingerprint).where(
                    KeyRecord.status != "retired"
                )
            )
        }
        if set(stored) <= _key_ids(self.keyring):
            return self.keyring
        with self._reload_lock:
            if set(stored) <= _key_ids(self.keyring):
                return self.keyring
            keyring = load_keyring(
                keys_json=self.settings.keys_json, key_file=self.settings.key_file, create=False
            )
            for (kind, key_id), fingerprint in sorted(stored.items()):
                if (kind, key_id) not in _key_ids(keyring):
                    raise ConfigurationError(
                        f"the database needs {kind} key {key_id!r}, which is not configured"
                        " (restart with the new keys)"
                    )
                if keyring.fingerprint(kind, key_id) != fingerprint:
                    raise ConfigurationError(
                        f"{kind} key {key_id!r} does not match the key the database names"
                    )
            self.keyring = keyring
            return keyring


def _key_ids(keyring: KeyRing) -> set[tuple[str, str]]:
    return {("encryption", k) for k in keyring.encryption_keys} | {
        ("index", k) for k in keyring.index_keys
    }


def open_runtime(
    settings: Settings, *, create_keys: bool = True, run_migrations: bool = True
) -> Runtime:
    """Engine, schema and keys; fails clearly on a missing or wrong key."""
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url, lock_timeout_s=settings.lock_timeout_s)
    try:
        if run_migrations:
            migrate(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            # New keys only for a new database: a lost key file must be reported as lost,
            # not silently replaced by keys that cannot read the data.
            has_data_keys = session.scalar(select(func.count()).select_from(KeyRecord)) or 0
        keyring = load_keyring(
            keys_json=settings.keys_json,
            key_file=settings.key_file,
            create=create_keys and not has_data_keys,
        )
        with transaction(sessions) as session:
            check_keys(session, keyring)
    except BaseException:
        engine.dispose()
        raise
    return Runtime(settings=settings, engine=engine, sessions=sessions, keyring=keyring)
