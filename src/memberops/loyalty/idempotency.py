"""Request idempotency keys, kept 24 hours (`campaign_rules.IDEMPOTENCY_TTL`).

A caller's `Idempotency-Key` on `POST /v1/redemptions` stores the first answer; a replay
of the same key with the same body within 24 h returns that answer unchanged, the same key
with another body within 24 h is a Conflict, and after 24 h the key is free again. Expired
keys are deleted when the key is reused and by `purge_expired_keys` (one indexed delete,
run by the period-end job `memberops tiers evaluate` and `memberops points purge-keys`).

This bounds only the request layer: the business document (source system + redemption
id) stays de-duplicated forever in the ledger, so an expired key can never post twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from memberops.errors import Conflict
from memberops.loyalty.campaign_models import IdempotencyKey
from memberops.loyalty.campaign_rules import idempotency_expires_at

__all__ = ["StoredAnswer", "purge_expired_keys", "remember", "replay", "request_hash"]


def request_hash(route: str, body: Any) -> str:
    """A stable fingerprint of a request (route + canonical JSON body)."""
    text = json.dumps({"route": route, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class StoredAnswer(dict[str, Any]):
    """The stored response body of a replayed key."""


def replay(
    session: Session, *, scope: str, key: str, fingerprint: str, now: datetime
) -> StoredAnswer | None:
    """The first answer to this key if it is still live; None when the key is new or
    expired (an expired row is deleted so the key can be stored again)."""
    row = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    if row is None:
        return None
    if row.expires_at <= now:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        session.expunge(row)
        return None
    if row.request_sha256 != fingerprint:
        raise Conflict(f"Idempotency-Key {key} was used for another request in the last 24 hours")
    return StoredAnswer(row.response)


def remember(
    session: Session,
    *,
    scope: str,
    key: str,
    fingerprint: str,
    response: dict[str, Any],
    now: datetime,
    status_code: int = 200,
) -> None:
    """Store the first answer to a key (a concurrent first use keeps the other answer)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(IdempotencyKey).on_conflict_do_nothing(index_elements=["scope", "key"])
    session.execute(
        stmt,
        {
            "scope": scope[:160],
            "key": key[:120],
            "request_sha256": fingerprint,
            "status_code": status_code,
            "response": response,
            "created_at": now,
            "expires_at": idempotency_expires_at(now),
        },
    )


def purge_expired_keys(session: Session, *, now: datetime) -> int:
    """Delete every expired key (indexed on `expires_at`). Returns how many."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
