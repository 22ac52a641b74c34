"""API keys and roles.

A key is shown once when created and stored only as its SHA-256. Roles: admin, pos,
staff, marketer, analyst, member. A POS or staff key may be bound to one store; a member
key is bound to one member and can act only on that member's own data.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from memberops.actor import ROLES, Actor
from memberops.apikeys.models import ApiKey
from memberops.db import utcnow
from memberops.errors import NotFound, ValidationError
from memberops.members.models import Member

__all__ = [
    "API_ROLES",
    "LAST_USED_EVERY_S",
    "authenticate",
    "create_api_key",
    "key_summary",
    "list_api_keys",
    "revoke_api_key",
    "revoke_member_keys",
    "touch_last_used",
]

LAST_USED_EVERY_S = 60

API_ROLES = tuple(r for r in ROLES if r != "system")
_KEY_PREFIX = "mo_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session,
    *,
    name: str,
    role: str,
    store_code: str | None = None,
    staff_id: str | None = None,
    member_id: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret (shown once, never stored)."""
    if role not in API_ROLES:
        raise ValidationError("api key", "role", f"must be one of {', '.join(API_ROLES)}")
    if role == "member" and not member_id:
        raise ValidationError("api key", "member_id", "a member key needs its member")
    if member_id is not None and session.get(Member, member_id) is None:
        raise ValidationError("api key", "member_id", "is not a known member")
    secret = _KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name[:80],
        role=role,
        secret_sha256=_digest(secret),
        prefix=secret[:10],
        store_code=store_code,
        staff_id=staff_id,
        member_id=member_id,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return key, secret


def authenticate(session: Session, secret: str) -> Actor | None:
    """The actor behind a presented secret, or None (unknown, revoked or expired)."""
    if not secret.startswith(_KEY_PREFIX) or len(secret) > 200:
        return None
    # Every request comes here: read the few columns needed as a plain row, not an entity.
    key = session.execute(
        select(
            ApiKey.id,
            ApiKey.role,
            ApiKey.staff_id,
            ApiKey.store_code,
            ApiKey.member_id,
            ApiKey.revoked_at,
            ApiKey.expires_at,
        ).where(ApiKey.secret_sha256 == _digest(secret))
    ).first()
    if key is None or key.revoked_at is not None:
        return None
    if key.expires_at is not None and key.expires_at <= utcnow():
        return None
    return Actor(
        kind="api_key",
        id=key.id,
        role=key.role,
        staff_id=key.staff_id,
        store_code=key.store_code,
        member_id=key.member_id,
    )


def revoke_member_keys(session: Session, member_id: str) -> int:
    """Revoke every key bound to the member (on erasure); returns how many were live."""
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.member_id == member_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def key_summary(key: ApiKey) -> dict[str, Any]:
    """What a listing shows of a key: never its secret or hash, only the first characters."""
    now = utcnow()
    if key.revoked_at is not None:
        state = "revoked"
    elif key.expires_at is not None and key.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "store_code": key.store_code,
        "member_id": key.member_id,
        "state": state,
        "created_at": key.created_at.isoformat(),
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
    }


def list_api_keys(
    session: Session, *, include_revoked: bool = False, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Keys, oldest first, as summaries (no secrets)."""
    stmt = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return [key_summary(k) for k in session.scalars(stmt.limit(limit).offset(offset))]


def revoke_api_key(session: Session, key_id: str) -> dict[str, Any]:
    """Revoke one key (idempotent); it stops working on its next request."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"api key {key_id} not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key_summary(key)


def touch_last_used(session: Session, key_id: str, at: datetime) -> None:
    """Note that the key was used at `at` (callers space these out)."""
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))
