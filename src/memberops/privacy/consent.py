"""Consent per purpose, with its history; the current state is one read.

Ordering and earning points never ask for consent (PIPL Art. 16): nothing in orders or
loyalty reads this module. Marketing, personalised marketing, profiling, sensitive data
and partner sharing each need their own decision (PIPL Art. 14, 23, 29; GDPR Art. 9, 21).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import bulk_insert, new_id, utcnow
from memberops.errors import ValidationError
from memberops.privacy import audit
from memberops.privacy.models import Consent, ConsentState
from memberops.privacy.rules import PURPOSES

__all__ = [
    "ConsentDecision",
    "current_consents",
    "granted_consent_id",
    "has_consent",
    "record_consent",
    "record_consents_bulk",
    "refresh_consent_state",
]


def record_consent(
    session: Session,
    *,
    member_id: str,
    purpose: str,
    granted: bool,
    channel: str,
    source: str,
    notice_version: str,
    actor: Actor,
    decided_at: datetime | None = None,
    audit_it: bool = True,
    reason: str | None = None,
) -> Consent:
    """Give or withdraw consent for one purpose; withdrawing is the same single call."""
    if purpose not in PURPOSES:
        raise ValidationError("consent", "purpose", f"must be one of {', '.join(PURPOSES)}")
    if not notice_version:
        raise ValidationError("consent", "notice_version", "is required")
    at = decided_at or utcnow()
    consent = Consent(
        member_id=member_id,
        purpose=purpose,
        granted=granted,
        decided_at=at,
        channel=channel,
        source=source,
        notice_version=notice_version,
        recorded_by=actor.label,
    )
    session.add(consent)
    session.flush()
    state = session.get(ConsentState, (member_id, purpose))
    if state is None:
        session.add(
            ConsentState(
                member_id=member_id,
                purpose=purpose,
                granted=granted,
                decided_at=at,
                consent_id=consent.id,
            )
        )
    elif state.decided_at <= at:  # a late-arriving older decision does not win
        state.granted, state.decided_at, state.consent_id = granted, at, consent.id
    if audit_it:
        audit.record(
            session,
            actor,
            "consent.grant" if granted else "consent.withdraw",
            member_id=member_id,
            fields=[purpose],
            reason=f"{channel}/{source}, notice {notice_version}"
            + (f"; {reason}" if reason else ""),
        )
    return consent


def current_consents(session: Session, member_id: str) -> dict[str, bool]:
    """Purpose -> granted, for every purpose (absent decisions read as not granted)."""
    states = session.scalars(select(ConsentState).where(ConsentState.member_id == member_id))
    found = {s.purpose: s.granted for s in states}
    return {purpose: found.get(purpose, False) for purpose in PURPOSES}


def has_consent(session: Session, member_id: str, purpose: str) -> bool:
    """One read of the current state."""
    state = session.get(ConsentState, (member_id, purpose))
    return bool(state and state.granted)


def granted_consent_id(session: Session, member_id: str, purpose: str) -> str | None:
    """The consent record a granted purpose rests on, or None when it is not granted."""
    state = session.get(ConsentState, (member_id, purpose))
    return state.consent_id if state is not None and state.granted else None


def refresh_consent_state(session: Session, member_id: str) -> None:
    """Rebuild a member's current state from the history (after a merge or unmerge)."""
    session.execute(delete(ConsentState).where(ConsentState.member_id == member_id))
    latest: dict[str, Consent] = {}
    for consent in session.scalars(
        select(Consent)
        .where(Consent.member_id == member_id)
        .order_by(Consent.decided_at, Consent.recorded_at)
    ):
        latest[consent.purpose] = consent
    for purpose, consent in latest.items():
        session.add(
            ConsentState(
                member_id=member_id,
                purpose=purpose,
                granted=consent.granted,
                decided_at=consent.decided_at,
                consent_id=consent.id,
            )
        )
    session.flush()


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """One decision arriving in bulk (from a channel feed or an import)."""

    member_id: str
    purpose: str
    granted: bool
    decided_at: datetime
    channel: str
    source: str
    notice_version: str


def record_consents_bulk(
    session: Session, decisions: Sequence[ConsentDecision], *, actor: Actor
) -> int:
    """Record many decisions with a few statements; the newest decision per purpose wins.

    A decision already recorded (same member, purpose, time, answer and source) is a
    replay and is skipped, so re-importing a feed adds nothing. Returns how many were new.
    """
    decisions = _without_replays(session, decisions)
    if not decisions:
        return 0
    now = utcnow()
    ids = [new_id() for _ in decisions]
    bulk_insert(
        session,
        Consent,
        [
            {
                "id": consent_id,
                "member_id": d.member_id,
                "purpose": d.purpose,
                "granted": d.granted,
                "decided_at": d.decided_at,
                "channel": d.channel,
                "source": d.source,
                "notice_version": d.notice_version,
                "recorded_at": now,
                "recorded_by": actor.label,
            }
            for consent_id, d in zip(ids, decisions, strict=True)
        ],
    )
    newest: dict[tuple[str, str], tuple[str, ConsentDecision]] = {}
    for consent_id, d in zip(ids, decisions, strict=True):
        key = (d.member_id, d.purpose)
        if key not in newest or newest[key][1].decided_at <= d.decided_at:
            newest[key] = (consent_id, d)
    members = list({member_id for member_id, _purpose in newest})
    existing: dict[tuple[str, str], ConsentState] = {}
    for start in range(0, len(members), 500):
        for state in session.scalars(
            select(ConsentState).where(ConsentState.member_id.in_(members[start : start + 500]))
        ):
            existing[(state.member_id, state.purpose)] = state
    fresh: list[dict[str, object]] = []
    for key, (consent_id, d) in newest.items():
        current = existing.get(key)
        if current is None:
            fresh.append(
                {
                    "member_id": d.member_id,
                    "purpose": d.purpose,
                    "granted": d.granted,
                    "decided_at": d.decided_at,
                    "consent_id": consent_id,
                }
            )
        elif current.decided_at <= d.decided_at:
            current.granted, current.decided_at, current.consent_id = (
                d.granted,
                d.decided_at,
                consent_id,
            )
    if fresh:
        bulk_insert(session, ConsentState, fresh)
    audit.record_many(
        session,
        actor,
        [
            audit.AuditEvent(
                "consent.grant" if d.granted else "consent.withdraw",
                member_id=d.member_id,
                fields=[d.purpose],
                reason=f"{d.channel}/{d.source}, notice {d.notice_version}",
            )
            for d in decisions
        ],
    )
    session.flush()
    return len(decisions)


def _without_replays(
    session: Session, decisions: Sequence[ConsentDecision]
) -> list[ConsentDecision]:
    def key(d: ConsentDecision) -> tuple[str, str, str, bool, str]:
        return (
            d.member_id,
            d.purpose,
            d.decided_at.astimezone(UTC).isoformat(),
            d.granted,
            d.source,
        )

    members = list({d.member_id for d in decisions})
    seen: set[tuple[str, str, str, bool, str]] = set()
    for start in range(0, len(members), 500):
        for row in session.execute(
            select(
                Consent.member_id,
                Consent.purpose,
                Consent.decided_at,
                Consent.granted,
                Consent.source,
            ).where(Consent.member_id.in_(members[start : start + 500]))
        ):
            seen.add((row[0], row[1], row[2].astimezone(UTC).isoformat(), row[3], row[4]))
    fresh: list[ConsentDecision] = []
    for d in decisions:
        if key(d) not in seen:
            seen.add(key(d))
            fresh.append(d)
    return fresh
