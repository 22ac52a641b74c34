"""Console tables: staff accounts (scrypt-hashed passwords) and sign-in sessions.

A session row holds only the SHA-256 of the cookie's secret, so a copy of the database
cannot be replayed as a signed-in browser.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = ["ConsoleSession", "StaffAccount"]


class StaffAccount(Base):
    """A person who signs in to the console with a user name and password."""

    __tablename__ = "staff_accounts"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    store_code: Mapped[str | None] = mapped_column(String(32))
    # "scrypt$n$r$p$salt_hex$hash_hex" (hashlib.scrypt; parameters kept per row so they
    # can be raised later without invalidating old passwords).
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ConsoleSession(Base):
    """A signed-in browser: who (an API key or a staff account), until when, its CSRF token."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    api_key_id: Mapped[str | None] = mapped_column(IdString(), ForeignKey("api_keys.id"))
    staff_account_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("staff_accounts.id")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
