"""Opening memberops: settings -> engine, schema migrations and the checked key ring.

The one place that turns `Settings` into live resources. CLI commands and the API call
`open_runtime` once at the edge and pass the pieces down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from memberops.config import Settings
from memberops.db import make_engine, make_session_factory, transaction
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
    """Live resources for one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: KeyRing

    def close(self) -> None:
        self.engine.dispose()


def open_runtime(
    settings: Settings, *, create_keys: bool = True, run_migrations: bool = True
) -> Runtime:
    """Engine, schema and keys; fails clearly on a missing or wrong key."""
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
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
