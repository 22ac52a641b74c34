"""Console sign-in: staff accounts with scrypt-hashed passwords, API keys, sessions.

A browser signs in once and gets a random session token in an HttpOnly, SameSite=Strict
cookie (Secure over TLS); the database keeps only the token's SHA-256. Each session
carries its own CSRF token, which every form and every JSON write must echo. The actor
behind a session has exactly the role and store scope of the key or account it came
from, so the console can do nothing the API would refuse.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.apikeys.models import ApiKey
from memberops.apikeys.service import API_ROLES, authenticate
from memberops.db import utcnow
from memberops.errors import Conflict, NotFound, ValidationError
from memberops.web.models import ConsoleSession, StaffAccount

__all__ = [
    "SESSION_HOURS",
    "SignedIn",
    "create_staff_account",
    "end_session",
    "hash_password",
    "session_actor",
    "sign_in_with_key",
    "sign_in_with_password",
    "verify_password",
]

SESSION_HOURS = 12  # one shift
# scrypt cost: n=2**14, r=8, p=1 uses 16 MiB and ~50 ms here (RFC 7914 §2 interactive
# figures); parameters are stored per hash so they can be raised later.
_N, _R, _P = 2**14, 8, 1
_MIN_PASSWORD = 10
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
# A fixed hash to verify against when the user name is unknown, so a wrong name costs
# as long as a wrong password (no user enumeration by timing).
_DUMMY_HASH = "scrypt$16384$8$1$00000000000000000000000000000000$" + "00" * 32


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` for a new password (hashlib.scrypt, random 16-byte salt)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored scrypt hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def create_staff_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    store_code: str | None = None,
    display_name: str | None = None,
) -> StaffAccount:
    """A new console account; the password is stored only as its scrypt hash."""
    username = username.strip().lower()
    if not 2 <= len(username) <= 64 or not set(username) <= _USERNAME_CHARS:
        raise ValidationError(
            "staff account", "username", "use 2-64 lower-case letters, digits, '.', '_' or '-'"
        )
    roles = tuple(r for r in API_ROLES if r != "member")
    if role not in roles:
        raise ValidationError("staff account", "role", f"must be one of {', '.join(roles)}")
    if len(password) < _MIN_PASSWORD:
        raise ValidationError(
            "staff account", "password", f"must be at least {_MIN_PASSWORD} characters"
        )
    if session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)):
        raise Conflict(f"staff account {username} already exists")
    account = StaffAccount(
        username=username,
        display_name=(display_name or "").strip()[:80] or None,
        role=role,
        store_code=store_code,
        password_hash=hash_password(password),
    )
    session.add(account)
    session.flush()
    return account


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie value (shown to the browser only) and its CSRF token."""

    token: str
    csrf_token: str
    actor: Actor


def _new_session(
    session: Session, *, api_key_id: str | None, account_id: str | None
) -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(
        ConsoleSession(
            token_sha256=_sha256(token),
            csrf_token=csrf,
            api_key_id=api_key_id,
            staff_account_id=account_id,
            expires_at=utcnow() + timedelta(hours=SESSION_HOURS),
        )
    )
    session.flush()
    return token, csrf


def _account_actor(account: StaffAccount) -> Actor:
    return Actor(
        kind="staff",
        id=account.id,
        role=account.role,
        staff_id=account.username,
        store_code=account.store_code,
    )


def sign_in_with_password(session: Session, username: str, password: str) -> SignedIn | None:
    """A session for a staff account, or None for a wrong name or password."""
    account = session.scalar(
        select(StaffAccount).where(StaffAccount.username == username.strip().lower())
    )
    stored = account.password_hash if account is not None else _DUMMY_HASH
    matches = verify_password(password, stored)
    if account is None or not matches or account.disabled_at is not None:
        return None
    account.last_sign_in_at = utcnow()
    token, csrf = _new_session(session, api_key_id=None, account_id=account.id)
    return SignedIn(token, csrf, _account_actor(account))


def sign_in_with_key(session: Session, secret: str) -> SignedIn | None:
    """A session for a valid API key (member keys sign in to the member app, not here)."""
    actor = authenticate(session, secret.strip())
    if actor is None or actor.role == "member":
        return None
    token, csrf = _new_session(session, api_key_id=actor.id, account_id=None)
    return SignedIn(token, csrf, actor)


def session_actor(session: Session, token: str) -> tuple[Actor, ConsoleSession] | None:
    """The actor behind a session cookie, re-checking that its key or account still holds."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_sha256 == _sha256(token))
    )
    now = utcnow()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if row.staff_account_id:
        account = session.get(StaffAccount, row.staff_account_id)
        if account is None or account.disabled_at is not None:
            return None
        return _account_actor(account), row
    key = session.get(ApiKey, row.api_key_id) if row.api_key_id else None
    if key is None or key.revoked_at is not None:
        return None
    if key.expires_at is not None and key.expires_at <= now:
        return None
    actor = Actor(
        kind="api_key",
        id=key.id,
        role=key.role,
        staff_id=key.staff_id,
        store_code=key.store_code,
        member_id=key.member_id,
    )
    return actor, row


def end_session(session: Session, token: str) -> None:
    """Sign out: the session stops working at once."""
    row = session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_sha256 == _sha256(token))
    )
    if row is None:
        raise NotFound("session not found")
    row.ended_at = utcnow()
    session.flush()
