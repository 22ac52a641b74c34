"""API keys: stored as SHA-256 of the secret, with a role and optional scope."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = ["ApiKey"]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    store_code: Mapped[str | None] = mapped_column(String(32))  # POS / staff keys: one store
    staff_id: Mapped[str | None] = mapped_column(String(64))
    # A member's own token: it can read and act on that member only.
    member_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Refreshed at most once a minute per key and process (a write per request would
    # put every read behind SQLite's write lock).
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
