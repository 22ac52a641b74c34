"""Settings, built once at the edge (CLI command, API start-up) and passed down.

Nothing in memberops reads the environment except `Settings.from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "default_home"]


def default_home() -> Path:
    """`~/.memberops`, the documented home of the embedded database and key file."""
    return Path.home() / ".memberops"


@dataclass(frozen=True)
class Settings:
    """Where data lives and where keys come from."""

    home: Path
    database_url: str
    keys_json: str | None = None  # MEMBEROPS_KEYS, when keys come from the environment
    # Longest wait for a database lock or pooled connection; the server uses less.
    lock_timeout_s: float = 30.0
    redis_url: str | None = None  # MEMBEROPS_REDIS_URL: rate limits shared across workers

    @property
    def key_file(self) -> Path:
        """The key file used when MEMBEROPS_KEYS is not set (created 0600 on first run)."""
        return self.home / "keys.json"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read MEMBEROPS_HOME, MEMBEROPS_DATABASE_URL, MEMBEROPS_KEYS and MEMBEROPS_REDIS_URL."""
        env = os.environ if environ is None else environ
        home = Path(env.get("MEMBEROPS_HOME") or default_home()).expanduser()
        url = env.get("MEMBEROPS_DATABASE_URL") or f"sqlite:///{home / 'memberops.db'}"
        return cls(
            home=home,
            database_url=url,
            keys_json=env.get("MEMBEROPS_KEYS") or None,
            redis_url=env.get("MEMBEROPS_REDIS_URL") or None,
        )
