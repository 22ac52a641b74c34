"""Label use cases: write (screened), read (filtered and audited), dispute, delete.

The scan of stored labels is in `scan.py`, the computed labels the pipeline refreshes in
`computed.py`.

Seed 000: Haidilao staff recorded "1.68 m, glasses, long hair, big round face" and "loves
to report us on the app" next to "no onions". Here every note a person types passes the
label guard before it is stored; a rejected note is never stored, a sensitive need
(allergy, health, religious or disability need) is stored only on the member's consent
for "sensitive_data" and shown only to those who serve the member. Every label keeps its
provenance, and the member can see, dispute and delete what is recorded about them.

Services never commit: the edge (request, CLI command, pipeline step) owns the
transaction. Note texts never appear in error messages, audit entries or label events:
those carry reasons and categories only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import new_id, utcnow
from memberops.errors import (
    Conflict,
    ConsentRequired,
    Forbidden,
    LabelRejected,
    NotFound,
    ValidationError,
)
from memberops.labels import reviews
from memberops.labels import rules as label_rules
from memberops.labels.guard import Screening, screen
from memberops.labels.models import Label, LabelEvent
from memberops.members.models import Member, MemberStatus
from memberops.members.service import get_member_or_raise
from memberops.privacy import audit
from memberops.privacy.consent import granted_consent_id, has_consent
from memberops.privacy.crypto import KeyRing

__all__ = [
    "LABEL_TEXT_ENCRYPTION",
    "MAX_TEXT_CHARS",
    "REASON_CHARS",
    "SENSITIVE_PURPOSE",
    "delete_label",
    "dispute_label",
    "list_labels",
    "members_with_label_query",
    "record_label_event",
    "sensitive_consent_id",
    "sensitive_needs_section",
    "service_needs_section",
    "write_member_label",
    "write_staff_label",
]

SENSITIVE_PURPOSE = "sensitive_data"
MAX_TEXT_CHARS = 500
REASON_CHARS = 200
LABEL_TEXT_ENCRYPTION = {"table": "labels", "column": "text_enc"}


def _rejected(field: str, screening: Screening) -> LabelRejected:
    """The error for a note the guard refused: verdict, reasons and categories, no text."""
    return LabelRejected(
        field,
        verdict=screening.verdict,
        reasons=screening.reasons,
        categories=sorted({s.category for s in screening.spans}),
        remainder=screening.remainder or None,
    )


# ---------------------------------------------------------------------------- helpers
def _is_self(actor: Actor, member_id: str) -> bool:
    return actor.role == "member" and actor.member_id is not None and actor.member_id == member_id


def _member_for(session: Session, member_id: str, actor: Actor) -> Member:
    """The member, or NotFound: a member key sees only its own member (no existence leak)."""
    if actor.role == "member" and actor.member_id != member_id:
        raise NotFound(f"member {member_id} not found")
    return get_member_or_raise(session, member_id)


def _writable_member(session: Session, member_id: str, actor: Actor) -> Member:
    member = _member_for(session, member_id, actor)
    if member.status != MemberStatus.ACTIVE:
        raise Conflict(f"member {member_id} is {member.status}; labels cannot be added")
    return member


def sensitive_consent_id(session: Session, member_id: str) -> str | None:
    """The consent a sensitive label rests on, or None when not granted."""
    if not has_consent(session, member_id, SENSITIVE_PURPOSE):
        return None
    return granted_consent_id(session, member_id, SENSITIVE_PURPOSE)


def _clean_text(field: str, text: str | None, *, required: bool, max_chars: int) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            raise ValidationError("label", field, "is required")
        return None
    if len(cleaned) > max_chars:
        raise ValidationError("label", field, f"is longer than {max_chars} characters")
    return cleaned


def _screen_reason(reason: str | None) -> None:
    """The stated reason is stored in clear: nothing forbidden or sensitive may be in it.

    A reason describes the record ("recorded at the front desk"), not a dining need, so
    the guard's "review" (not a recognised service need, nothing forbidden found) is fine.
    """
    if reason is None:
        return
    screening = screen(reason)
    if screening.verdict in ("reject", "sensitive"):
        raise _rejected("reason", screening)


def record_label_event(
    session: Session, label: Label, action: str, actor: Actor, reason: str | None
) -> None:
    session.add(
        LabelEvent(
            label_id=label.id,
            member_id=label.member_id,
            action=action,
            actor=actor.label[:120],
            reason=reason[:REASON_CHARS] if reason else None,
        )
    )


def _store_screened(
    session: Session,
    keyring: KeyRing,
    *,
    member: Member,
    category: str,
    text: str,
    reason: str | None,
    actor: Actor,
    source: str,
    valid_until: datetime | None,
) -> Label:
    screening = screen(text)
    if screening.verdict == "reject":
        raise _rejected("text", screening)
    consent_id: str | None = None
    sensitive_categories: list[str] = []
    if screening.sensitive_categories:
        consent_id = sensitive_consent_id(session, member.id)
        if consent_id is None:
            raise ConsentRequired(
                member.id,
                screening.sensitive_categories,
                by_member=source == "member",
                purpose=SENSITIVE_PURPOSE,
            )
        sensitive_categories = list(screening.sensitive_categories)
    now = utcnow()
    if valid_until is not None and valid_until.tzinfo is None:
        raise ValidationError("label", "valid_until", "needs a UTC offset")
    if valid_until is not None and valid_until <= now:
        raise ValidationError("label", "valid_until", "must be in the future")
    label_id = new_id()
    label = Label(
        id=label_id,
        member_id=member.id,
        category=category,
        code=None,
        text_enc=keyring.encrypt(text, row_id=label_id, **LABEL_TEXT_ENCRYPTION),
        source=source,
        created_by=actor.label[:120],
        staff_id=actor.staff_id,
        store_code=actor.store_code,
        reason=reason,
        created_at=now,
        valid_from=now,
        valid_until=valid_until,
        # A note the guard could not recognise waits for a manager (labels.reviews).
        status="in_review" if screening.verdict == "review" else "active",
        sensitive=bool(sensitive_categories),
        sensitive_categories=sensitive_categories,
        consent_id=consent_id,
    )
    session.add(label)
    session.flush()
    record_label_event(
        session, label, "created", actor, f"{source} label, verdict {screening.verdict}"
    )
    if screening.verdict == "review":
        reviews.open_review(
            session,
            label=label,
            reasons=screening.reasons,
            categories=sorted({s.category for s in screening.spans}),
            actor=actor,
        )
    fields = [category, *(["sensitive"] if sensitive_categories else [])]
    audit.record(
        session,
        actor,
        "labels.write",
        member_id=member.id,
        fields=fields,
        reason=f"{source} label {label_id}",
    )
    return label


# ---------------------------------------------------------------------------- writes
def write_staff_label(
    session: Session,
    keyring: KeyRing,
    *,
    member_id: str,
    category: str,
    text: str,
    reason: str,
    actor: Actor,
    valid_until: datetime | None = None,
) -> Label:
    """Store a note typed by staff, after the guard; provenance comes from the actor.

    Raises `LabelRejected` (nothing stored) when the guard rejects the note or the reason,
    `ConsentRequired` for a sensitive need without the member's sensitive_data consent,
    `Forbidden` for roles that do not serve members.
    """
    if actor.role not in label_rules.LABEL_WRITER_ROLES:
        raise Forbidden(f"writing labels needs one of: {', '.join(label_rules.LABEL_WRITER_ROLES)}")
    if category not in label_rules.STAFF_CATEGORIES:
        raise ValidationError(
            "label", "category", f"staff may write only {', '.join(label_rules.STAFF_CATEGORIES)}"
        )
    note = _clean_text("text", text, required=True, max_chars=MAX_TEXT_CHARS)
    why = _clean_text("reason", reason, required=True, max_chars=REASON_CHARS)
    assert note is not None
    _screen_reason(why)
    member = _writable_member(session, member_id, actor)
    return _store_screened(
        session,
        keyring,
        member=member,
        category=category,
        text=note,
        reason=why,
        actor=actor,
        source="staff",
        valid_until=valid_until,
    )


def write_member_label(
    session: Session,
    keyring: KeyRing,
    *,
    member_id: str,
    category: str,
    text: str,
    actor: Actor,
    reason: str | None = None,
    valid_until: datetime | None = None,
) -> Label:
    """Store a need the member declares about themself ("peanut allergy", "no coriander").

    Still screened: a member's own declaration is held to the same rule as staff notes.
    A sensitive need counts as consented only when the member's sensitive_data consent is
    recorded; otherwise `ConsentRequired` says so and nothing is stored.
    """
    if not (_is_self(actor, member_id) or actor.role in ("admin", "system")):
        raise NotFound(f"member {member_id} not found")
    if category not in label_rules.MEMBER_CATEGORIES:
        raise ValidationError(
            "label", "category", f"must be one of {', '.join(label_rules.MEMBER_CATEGORIES)}"
        )
    note = _clean_text("text", text, required=True, max_chars=MAX_TEXT_CHARS)
    why = _clean_text("reason", reason, required=False, max_chars=REASON_CHARS)
    assert note is not None
    _screen_reason(why)
    member = _writable_member(session, member_id, actor)
    return _store_screened(
        session,
        keyring,
        member=member,
        category=category,
        text=note,
        reason=why or "declared by the member",
        actor=actor,
        source="member",
        valid_until=valid_until,
    )


# ---------------------------------------------------------------------------- reads
def _label_dict(label: Label, text: str | None) -> dict[str, Any]:
    return {
        "id": label.id,
        "member_id": label.member_id,
        "category": label.category,
        "code": label.code,
        "text": text,
        "source": label.source,
        "status": label.status,
        "sensitive": label.sensitive,
        "sensitive_categories": list(label.sensitive_categories or []),
        "consent_id": label.consent_id,
        "valid_from": label.valid_from.isoformat(),
        "valid_until": label.valid_until.isoformat() if label.valid_until else None,
        "provenance": {
            "created_by": label.created_by,
            "staff_id": label.staff_id,
            "store_code": label.store_code,
            "created_at": label.created_at.isoformat(),
            "reason": label.reason,
            "rule_id": label.rule_id,
        },
    }


def list_labels(
    session: Session,
    keyring: KeyRing,
    member_id: str,
    *,
    actor: Actor,
    include_inactive: bool = False,
) -> list[dict[str, Any]]:
    """A member's labels as the actor may see them, decrypted, oldest first.

    - The member sees every label about them, whatever its status, with source and
      provenance (transparency, PRODUCT.md §5).
    - Staff, POS and admin see current labels (active and disputed, within validity),
      sensitive ones included; admin may ask for every status.
    - Marketers see current labels without sensitive ones; analysts see none.
    - Once the member withdraws sensitive_data consent, sensitive labels are hidden from
      everyone but the member.
    Every read by someone other than the member is audited as labels.read.
    """
    is_self = _is_self(actor, member_id)
    if actor.role == "member" and not is_self:
        raise NotFound(f"member {member_id} not found")
    if not is_self and actor.role not in label_rules.LABEL_READER_ROLES:
        raise Forbidden(f"reading labels needs one of: {', '.join(label_rules.LABEL_READER_ROLES)}")
    member = _member_for(session, member_id, actor)
    if member.status == MemberStatus.ERASED:
        return []  # nothing about an erased member is shown, whatever the filter
    see_sensitive = label_rules.may_see_sensitive(actor.role, is_self=is_self)
    see_all = is_self or (include_inactive and actor.role == "admin")
    # A withdrawn sensitive_data consent stops the use of the needs it covered at once
    # (PIPL Art. 15); the member still sees them, and may delete them.
    if see_sensitive and not is_self:
        see_sensitive = has_consent(session, member.id, SENSITIVE_PURPOSE)
    now = utcnow()
    out: list[dict[str, Any]] = []
    stmt = select(Label).where(Label.member_id == member.id).order_by(Label.created_at, Label.id)
    for label in session.scalars(stmt):
        if label.sensitive and not see_sensitive:
            continue
        if not see_all:
            if not label_rules.is_current_status(label.status):
                continue
            if label.valid_until is not None and label.valid_until <= now:
                continue
        text = (
            keyring.decrypt(label.text_enc, row_id=label.id, **LABEL_TEXT_ENCRYPTION)
            if label.text_enc
            else None
        )
        out.append(_label_dict(label, text))
    if not is_self and actor.role != "system":
        audit.record(
            session,
            actor,
            "labels.read",
            member_id=member.id,
            fields=["labels", *(["sensitive"] if see_sensitive else [])],
            reason=f"{len(out)} labels shown",
        )
    return out


def _label_of(session: Session, member_id: str, label_id: str, actor: Actor) -> Label:
    member = _member_for(session, member_id, actor)
    label = session.get(Label, label_id)
    if label is None or label.member_id != member.id:
        raise NotFound(f"label {label_id} not found for member {member_id}")
    return label


def dispute_label(
    session: Session,
    *,
    member_id: str,
    label_id: str,
    reason: str,
    actor: Actor,
) -> Label:
    """The member contests a label: it is flagged disputed until someone reviews it.

    The member's stated reason is kept with the event only when the guard allows it:
    events are stored in clear, and a reason such as "I am not diabetic" is itself
    health data.
    """
    if not (_is_self(actor, member_id) or actor.role == "admin"):
        raise NotFound(f"member {member_id} not found")
    why = _clean_text("reason", reason, required=True, max_chars=REASON_CHARS)
    assert why is not None
    label = _label_of(session, member_id, label_id, actor)
    if label.status not in ("active", "disputed"):
        raise Conflict(f"label {label_id} is {label.status} and cannot be disputed")
    screening = screen(why)
    kept = why if screening.verdict == "allow" else "reason withheld: not storable in clear"
    label.status = "disputed"
    record_label_event(session, label, "disputed", actor, kept)
    session.flush()
    audit.record(
        session,
        actor,
        "labels.dispute",
        member_id=label.member_id,
        fields=[label.category],
        reason=f"label {label.id}",
    )
    return label


def delete_label(
    session: Session,
    *,
    member_id: str,
    label_id: str,
    actor: Actor,
    reason: str | None = None,
) -> Label:
    """Delete a label at the member's (or an admin's) request: the text is destroyed.

    The row stays as a tombstone (category, source, code) so the member can see it was
    deleted and so a computed label is not re-created by the next refresh.
    """
    if not (_is_self(actor, member_id) or actor.role == "admin"):
        raise NotFound(f"member {member_id} not found")
    label = _label_of(session, member_id, label_id, actor)
    if label.status == "deleted":
        return label  # deleting twice is the same request
    label.text_enc = None
    label.status = "deleted"
    label.valid_until = utcnow()
    who = "member" if _is_self(actor, member_id) else actor.role
    record_label_event(session, label, "deleted", actor, f"deleted at the {who}'s request")
    session.flush()
    audit.record(
        session,
        actor,
        "labels.delete",
        member_id=label.member_id,
        fields=[label.category],
        reason=f"label {label.id}" + (" (reason given)" if reason else ""),
    )
    return label


def members_with_label_query(code: str) -> Select[str]:
    """Ids of members holding an active label with this code (for member lists, segments)."""
    return select(Label.member_id).where(Label.code == code, Label.status == "active")


def _current_needs(
    session: Session, keyring: KeyRing, member_id: str, *, sensitive: bool
) -> list[dict[str, Any]]:
    now = utcnow()
    stmt = select(Label).where(Label.member_id == member_id, Label.sensitive.is_(sensitive))
    if not sensitive:
        stmt = stmt.where(Label.category == "service_need")
    out: list[dict[str, Any]] = []
    for label in session.scalars(stmt.order_by(Label.created_at, Label.id)):
        if not label_rules.is_current_status(label.status):
            continue
        if label.valid_until is not None and label.valid_until <= now:
            continue
        text = (
            keyring.decrypt(label.text_enc, row_id=label.id, **LABEL_TEXT_ENCRYPTION)
            if label.text_enc
            else None
        )
        out.append({"category": label.category, "code": label.code, "text": text})
    return out


def service_needs_section(
    session: Session, keyring: KeyRing, member_id: str, actor: Actor
) -> list[dict[str, Any]]:
    """Current non-sensitive service needs (high chair, no onions) for the service card
    (a profile section; the role x field table decides who sees it)."""
    return _current_needs(session, keyring, member_id, sensitive=False)


def sensitive_needs_section(
    session: Session, keyring: KeyRing, member_id: str, actor: Actor
) -> list[dict[str, Any]]:
    """Current sensitive needs (allergies, health); the role x field table shows them
    only while the member's sensitive_data consent holds (the member always sees them)."""
    return _current_needs(session, keyring, member_id, sensitive=True)
