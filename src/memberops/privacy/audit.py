"""The tamper-evident audit log.

Each entry stores the hash of the previous entry, and its own hash covers its content and
that previous hash (OWASP logging guidance; reliability notes §4.3). Changing, deleting or
reordering any entry breaks the chain; `audit_head` also pins the newest entry so that
cutting off the tail is detected.

Appends are serial (an advisory lock on PostgreSQL, the head row everywhere), and whoever
appends holds the head until commit. `record` appends at once; `record_at_commit` appends
in the last statements before the commit, so hot paths (redemptions at checkout) queue
behind each other only for the append itself, not for the rest of their transactions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session, SessionTransaction

from memberops.actor import Actor
from memberops.db import utcnow
from memberops.logs import neutralise
from memberops.privacy.models import AuditEntry, AuditHead

__all__ = [
    "AuditEvent",
    "AuditVerification",
    "list_entries",
    "record",
    "record_at_commit",
    "record_many",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK = 774_200_001
# session.info key of the entries `record_at_commit` holds until the commit.
_PENDING = "memberops.audit.pending"


def _entry_hash(entry: AuditEntry) -> str:
    content = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "role": entry.role,
        "staff_id": entry.staff_id,
        "store_code": entry.store_code,
        "action": entry.action,
        "member_id": entry.member_id,
        "fields": list(entry.fields or []),
        "reason": entry.reason,
        "outcome": entry.outcome,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What one audit entry says, before it is chained."""

    action: str
    member_id: str | None = None
    fields: Sequence[str] = ()
    reason: str | None = None
    outcome: str = "ok"


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    member_id: str | None = None,
    fields: Sequence[str] = (),
    reason: str | None = None,
    outcome: str = "ok",
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction."""
    (entry,) = record_many(session, actor, [AuditEvent(action, member_id, fields, reason, outcome)])
    return entry


def record_at_commit(
    session: Session,
    actor: Actor,
    action: str,
    *,
    member_id: str | None = None,
    fields: Sequence[str] = (),
    reason: str | None = None,
    outcome: str = "ok",
) -> None:
    """Append one entry when the caller's transaction commits (and only if it commits).

    The entry is chained in the last statements before the commit, so the chain head is
    held for a few statements instead of the caller's whole transaction. A read of the
    chain in the same session (`list_entries`, `verify_chain`) appends it first; a
    rollback drops it with the rest of the transaction.
    """
    session.info.setdefault(_PENDING, []).append(
        (actor, AuditEvent(action, member_id, tuple(fields), reason, outcome))
    )


def _append_pending(session: Session) -> None:
    """Chain what `record_at_commit` held, in the order it was recorded."""
    pending: list[tuple[Actor, AuditEvent]] = session.info.pop(_PENDING, [])
    start = 0
    for end in range(1, len(pending) + 1):
        # One `record_many` per run of events by the same actor.
        if end == len(pending) or pending[end][0] is not pending[start][0]:
            record_many(session, pending[start][0], [e for _, e in pending[start:end]])
            start = end


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        _append_pending(session)


@sa_event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # Committed (already appended) or rolled back (never to be appended).
        session.info.pop(_PENDING, None)


def record_many(session: Session, actor: Actor, events: Sequence[AuditEvent]) -> list[AuditEntry]:
    """Append entries to the chain in order, in the caller's transaction (bulk imports)."""
    if not events:
        return []
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Appends must be serial for the chain to be a chain.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    # Fresh under the lock: another transaction may have moved the head since this
    # session last looked at it.
    head = session.get(AuditHead, 1, populate_existing=True)
    prev_seq, prev_hash = (head.seq, head.entry_hash) if head else (0, GENESIS_HASH)
    at = utcnow()
    actor_id = neutralise(actor.id)[:120]
    entries: list[AuditEntry] = []
    for event in events:
        entry = AuditEntry(
            seq=prev_seq + 1,
            at=at,
            actor_kind=actor.kind,
            actor_id=actor_id,
            role=actor.role,
            staff_id=actor.staff_id,
            store_code=actor.store_code,
            action=event.action,
            member_id=event.member_id,
            fields=sorted(event.fields),
            reason=neutralise(event.reason)[:400] if event.reason else None,
            outcome=event.outcome,
            prev_hash=prev_hash,
        )
        entry.entry_hash = _entry_hash(entry)
        entries.append(entry)
        prev_seq, prev_hash = entry.seq, entry.entry_hash
    session.add_all(entries)
    if head is None:
        session.add(AuditHead(id=1, seq=prev_seq, entry_hash=prev_hash))
    else:
        head.seq, head.entry_hash = prev_seq, prev_hash
    session.flush()
    return entries


@dataclass
class AuditVerification:
    """The result of walking the chain."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checked": self.checked, "problems": self.problems}


def verify_chain(session: Session, *, batch_size: int = 5000) -> AuditVerification:
    """Recompute every hash; report changed, deleted, inserted or reordered entries."""
    _append_pending(session)
    result = AuditVerification()
    expected_prev, expected_seq = GENESIS_HASH, 1
    last_seq = 0
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch_size)
    for entry in session.scalars(stmt):
        result.checked += 1
        if entry.seq != expected_seq:
            result.problems.append(
                f"entry {entry.seq}: expected sequence {expected_seq}"
                " (entries deleted or reordered)"
            )
        if entry.prev_hash != expected_prev:
            result.problems.append(f"entry {entry.seq}: does not follow its predecessor")
        if _entry_hash(entry) != entry.entry_hash:
            result.problems.append(f"entry {entry.seq}: content was changed")
        expected_prev, expected_seq = entry.entry_hash, entry.seq + 1
        last_seq = entry.seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.entry_hash != expected_prev):
        result.problems.append(
            f"the newest entry should be {head.seq}, found {last_seq} (entries removed at the end)"
        )
    if head is None and result.checked:
        result.problems.append("the chain head is missing")
    return result


def list_entries(
    session: Session,
    *,
    member_id: str | None = None,
    actor_id: str | None = None,
    actions: Iterable[str] | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """Entries, newest first, filtered by member, actor or action."""
    _append_pending(session)
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if member_id:
        stmt = stmt.where(AuditEntry.member_id == member_id)
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if actions is not None:
        stmt = stmt.where(AuditEntry.action.in_(list(actions)))
    return list(session.scalars(stmt))
