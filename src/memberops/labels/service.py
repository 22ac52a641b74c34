"""Label use cases: write (screened), read (filtered and audited), dispute, delete, scan,
and the computed labels the pipeline refreshes.

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

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor, system_actor
from memberops.db import new_id, utcnow
from memberops.errors import Conflict, Forbidden, NotFound, ValidationError
from memberops.labels import reviews
from memberops.labels import rules as label_rules
from memberops.labels.guard import Screening, screen
from memberops.labels.models import Label, LabelEvent
from memberops.members.models import Member, MemberStatus
from memberops.members.service import get_member_or_raise
from memberops.orders.models import Order, OrderAdjustment, OrderLine
from memberops.privacy import audit
from memberops.privacy.consent import has_consent
from memberops.privacy.crypto import DecryptionError, KeyRing
from memberops.privacy.models import ConsentState

__all__ = [
    "ConsentRequired",
    "LabelRejected",
    "ScanReport",
    "ServiceNeed",
    "delete_label",
    "derive_service_needs",
    "dispute_label",
    "list_labels",
    "members_with_recurring_modifiers",
    "refresh_computed_labels",
    "refresh_service_need_labels",
    "scan_labels",
    "write_member_label",
    "write_staff_label",
]

SENSITIVE_PURPOSE = "sensitive_data"
MAX_TEXT_CHARS = 500
_REASON_CHARS = 200
_ENC = {"table": "labels", "column": "text_enc"}

ServiceNeed = tuple[str, int, datetime]


class LabelRejected(ValidationError):
    """The guard rejected a note. Carries the verdict, reasons and span categories only."""

    def __init__(self, field: str, screening: Screening) -> None:
        self.verdict = screening.verdict
        self.reasons = screening.reasons
        self.categories = tuple(sorted({s.category for s in screening.spans}))
        # The guard's remainder (the part that could be stored on its own) is the
        # caller's own text; it is returned to them, never put in the message.
        self.remainder = screening.remainder or None
        # The API's error body carries record, field and reason, so the verdict and the
        # categories travel in the reason too (never the note itself).
        categories = ", ".join(self.categories) or "unspecified"
        reasons = "; ".join(self.reasons) or "not allowed"
        super().__init__(
            "label", field, f"rejected by the label guard (categories: {categories}): {reasons}"
        )

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body.update(
            verdict=self.verdict,
            reasons=list(self.reasons),
            categories=list(self.categories),
            remainder=self.remainder,
        )
        return body


class ConsentRequired(Conflict):
    """A sensitive need cannot be stored without the member's sensitive_data consent."""

    code = "consent_required"

    def __init__(self, member_id: str, categories: Sequence[str], *, by_member: bool) -> None:
        self.member_id = member_id
        self.categories = tuple(categories)
        who = "the member must first consent" if by_member else "record the member's consent first"
        super().__init__(
            f"this note records a sensitive need ({', '.join(self.categories)});"
            f" {who} to the purpose {SENSITIVE_PURPOSE!r}; nothing was stored"
        )

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body.update(
            verdict="sensitive",
            categories=list(self.categories),
            consent_purpose=SENSITIVE_PURPOSE,
        )
        return body


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


def _sensitive_consent_id(session: Session, member_id: str) -> str | None:
    """The consent a sensitive label rests on, or None when not granted."""
    if not has_consent(session, member_id, SENSITIVE_PURPOSE):
        return None
    state = session.get(ConsentState, (member_id, SENSITIVE_PURPOSE))
    return state.consent_id if state is not None else None


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
    """The stated reason is stored in clear, so it must pass the guard outright."""
    if reason is None:
        return
    screening = screen(reason)
    if screening.verdict != "allow":
        raise LabelRejected("reason", screening)


def _event(session: Session, label: Label, action: str, actor: Actor, reason: str | None) -> None:
    session.add(
        LabelEvent(
            label_id=label.id,
            member_id=label.member_id,
            action=action,
            actor=actor.label[:120],
            reason=reason[:_REASON_CHARS] if reason else None,
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
        raise LabelRejected("text", screening)
    consent_id: str | None = None
    sensitive_categories: list[str] = []
    if screening.sensitive_categories:
        consent_id = _sensitive_consent_id(session, member.id)
        if consent_id is None:
            raise ConsentRequired(
                member.id, screening.sensitive_categories, by_member=source == "member"
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
        text_enc=keyring.encrypt(text, row_id=label_id, **_ENC),
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
    _event(session, label, "created", actor, f"{source} label, verdict {screening.verdict}")
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
    why = _clean_text("reason", reason, required=True, max_chars=_REASON_CHARS)
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
    why = _clean_text("reason", reason, required=False, max_chars=_REASON_CHARS)
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
        text = keyring.decrypt(label.text_enc, row_id=label.id, **_ENC) if label.text_enc else None
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
    why = _clean_text("reason", reason, required=True, max_chars=_REASON_CHARS)
    assert why is not None
    label = _label_of(session, member_id, label_id, actor)
    if label.status not in ("active", "disputed"):
        raise Conflict(f"label {label_id} is {label.status} and cannot be disputed")
    screening = screen(why)
    kept = why if screening.verdict == "allow" else "reason withheld: not storable in clear"
    label.status = "disputed"
    _event(session, label, "disputed", actor, kept)
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
    _event(session, label, "deleted", actor, f"deleted at the {who}'s request")
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


# ---------------------------------------------------------------------------- scan
@dataclass
class ScanReport:
    """What a scan of stored labels found. Ids and categories only, never texts."""

    scanned: int = 0
    by_verdict: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    quarantined: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready report."""
        return {
            "scanned": self.scanned,
            "by_verdict": dict(sorted(self.by_verdict.items())),
            "by_category": dict(sorted(self.by_category.items())),
            "quarantined": list(self.quarantined),
            "unreadable": list(self.unreadable),
            "dry_run": self.dry_run,
        }


def _scan_text(keyring: KeyRing, label: Label) -> str | None:
    if label.text_enc:
        return keyring.decrypt(label.text_enc, row_id=label.id, **_ENC)
    if label.code and label.code.startswith(label_rules.MODIFIER_CODE_PREFIX):
        return label.code[len(label_rules.MODIFIER_CODE_PREFIX) :]
    if label.code:
        return label.code.replace("_", " ")
    return None


def scan_labels(
    session: Session, keyring: KeyRing, *, actor: Actor, quarantine: bool = True
) -> ScanReport:
    """Screen every active or disputed label and quarantine the ones that break the rule.

    Catches what was stored before the guard existed or changed (legacy imports, older
    lexicons). A label is a violation when the guard rejects it, or when it records a
    sensitive need without the sensitive flag and a consent that is still granted.
    Quarantined labels are hidden from everyone but the member and admins, with a
    LabelEvent and an audit entry each.
    """
    if actor.role not in ("admin", "system"):
        raise Forbidden("scanning labels needs the admin role")
    report = ScanReport(dry_run=not quarantine)
    stmt = (
        select(Label)
        .where(Label.status.in_(("active", "disputed")))
        .order_by(Label.id)
        .execution_options(yield_per=1000)
    )
    violations: list[tuple[Label, str, list[str]]] = []
    for label in session.scalars(stmt):
        report.scanned += 1
        try:
            text = _scan_text(keyring, label)
        except DecryptionError:
            report.unreadable.append(label.id)
            continue
        screening = screen(text or "")
        report.by_verdict[screening.verdict] += 1
        categories = sorted({s.category for s in screening.spans})
        report.by_category.update(categories)
        if screening.verdict == "reject":
            violations.append((label, "rejected by the guard", categories))
        elif screening.verdict == "sensitive" and not (
            label.sensitive
            and label.consent_id
            and has_consent(session, label.member_id, SENSITIVE_PURPOSE)
        ):
            report.by_category["sensitive_without_consent"] += 1
            violations.append(
                (label, "sensitive need without consent", list(screening.sensitive_categories))
            )
    for label, problem, categories in violations:
        report.quarantined.append(label.id)
        if not quarantine:
            continue
        label.status = "quarantined"
        why = f"scan: {problem} ({', '.join(categories) or 'unspecified'})"
        _event(session, label, "quarantined", actor, why)
        audit.record(
            session,
            actor,
            "labels.quarantine",
            member_id=label.member_id,
            fields=[label.category],
            reason=f"label {label.id}: {why}",
        )
    session.flush()
    return report


# ---------------------------------------------------------------------------- derived
def derive_service_needs(session: Session, member_id: str) -> list[ServiceNeed]:
    """Service requirements from the member's order-line modifiers, most frequent first.

    Each entry is (modifier, number of distinct orders carrying it, last time seen).
    Voided orders do not count: the meal did not happen. This is how the top-5 service
    requirements of the profile come about without anyone typing them (PRODUCT.md §2).
    """
    voided = select(OrderAdjustment.order_id).where(
        OrderAdjustment.kind == "void", OrderAdjustment.order_id.is_not(None)
    )
    stmt = (
        select(Order.id, Order.ordered_at, OrderLine.modifiers)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.member_id == member_id, Order.id.not_in(voided))
    )
    orders: dict[str, set[str]] = {}
    last_seen: dict[str, datetime] = {}
    for order_id, ordered_at, modifiers in session.execute(stmt):
        for modifier in modifiers or []:
            orders.setdefault(modifier, set()).add(order_id)
            if modifier not in last_seen or ordered_at > last_seen[modifier]:
                last_seen[modifier] = ordered_at
    needs = [(m, len(ids), last_seen[m]) for m, ids in orders.items()]
    needs.sort(key=lambda need: (-need[1], -need[2].timestamp(), need[0]))
    return needs


_STATUS_RANK = {"expired": 0, "active": 1}


def _computed_labels(session: Session, member_id: str, rule_ids: Sequence[str]) -> list[Label]:
    stmt = select(Label).where(
        Label.member_id == member_id,
        Label.source == "computed",
        Label.rule_id.in_(list(rule_ids)),
    )
    return list(session.scalars(stmt))


def _sync_computed(
    session: Session,
    *,
    member_id: str,
    wanted: dict[tuple[str, str], tuple[str, str, str | None, list[str]]],
    existing: list[Label],
    actor: Actor,
) -> list[Label]:
    """Make the computed labels match `wanted`: (rule_id, code) -> (category, why, consent,
    sensitive categories). Labels the member deleted or disputed are left alone, so a
    refresh never overrides the member's objection."""
    now = utcnow()
    by_key: dict[tuple[str, str], Label] = {}
    duplicates: list[Label] = []
    # After a merge the survivor can hold the same computed label twice; one stays, and
    # an objection (deleted, disputed, quarantined) outranks an active or expired copy.
    for found in sorted(existing, key=lambda item: (item.created_at, item.id)):
        key = (found.rule_id or "", found.code or "")
        kept = by_key.get(key)
        if kept is None:
            by_key[key] = found
            continue
        if _STATUS_RANK.get(found.status, 2) > _STATUS_RANK.get(kept.status, 2):
            by_key[key], found = found, kept
        duplicates.append(found)
    for duplicate in duplicates:
        if duplicate.status == "active":
            duplicate.status, duplicate.valid_until = "expired", now
            _event(session, duplicate, "expired", actor, "duplicate of another label (merge)")
    current: list[Label] = []
    for key, (category, why, consent_id, sensitive_cats) in wanted.items():
        label = by_key.get(key)
        if label is None:
            label = Label(
                id=new_id(),
                member_id=member_id,
                category=category,
                code=key[1],
                text_enc=None,
                source="computed",
                created_by=actor.label[:120],
                reason=why[:_REASON_CHARS],
                rule_id=key[0],
                created_at=now,
                valid_from=now,
                status="active",
                sensitive=bool(sensitive_cats),
                sensitive_categories=sensitive_cats,
                consent_id=consent_id,
            )
            session.add(label)
            session.flush()
            _event(session, label, "created", actor, "computed by rule")
        elif label.status == "expired":
            label.status, label.valid_from, label.valid_until = "active", now, None
            label.reason = why[:_REASON_CHARS]
            _event(session, label, "restored", actor, "rule matches again")
        elif label.status == "active":
            label.reason = why[:_REASON_CHARS]  # the latest evidence
        else:
            continue
        current.append(label)
    for key, label in by_key.items():
        if key not in wanted and label.status == "active":
            label.status, label.valid_until = "expired", now
            _event(session, label, "expired", actor, "rule no longer matches")
    session.flush()
    return current


def refresh_computed_labels(
    session: Session,
    member_id: str,
    features: dict[str, float],
    rules: Sequence[label_rules.Rule],
    *,
    actor: Actor | None = None,
) -> list[Label]:
    """Write or refresh the member's computed labels from profile features and label_rules.

    A matching rule creates its label (or re-activates an expired one); a label whose rule
    no longer matches expires. Provenance: the rule id and the feature values that
    matched (`spicy_share=0.72 >= 0.6`). Returns the member's current labels from these
    label_rules. Raises `label_rules.RuleError` when a rule reads a feature that is missing.
    """
    who = actor or system_actor("labels.refresh")
    wanted: dict[tuple[str, str], tuple[str, str, str | None, list[str]]] = {}
    for rule, why in label_rules.evaluate_rules(rules, features):
        wanted[(rule.rule_id, rule.code)] = (rule.category, why, None, [])
    existing = _computed_labels(session, member_id, [r.rule_id for r in rules])
    return _sync_computed(session, member_id=member_id, wanted=wanted, existing=existing, actor=who)


def refresh_service_need_labels(
    session: Session,
    member_id: str,
    *,
    min_orders: int = label_rules.MODIFIER_MIN_ORDERS,
    actor: Actor | None = None,
) -> list[Label]:
    """Computed service_need labels (`modifier:no onions`) for modifiers on >= `min_orders`
    distinct orders of the member.

    Modifiers are typed at the POS, so each one passes the guard like any note: a rejected
    modifier never becomes a label, a sensitive one ("no peanuts, allergy") only with the
    member's sensitive_data consent. A modifier that drops below the threshold expires.
    """
    who = actor or system_actor("labels.refresh")
    consent_id = _sensitive_consent_id(session, member_id)
    wanted: dict[tuple[str, str], tuple[str, str, str | None, list[str]]] = {}
    for modifier, count, seen in derive_service_needs(session, member_id):
        code = label_rules.modifier_code(modifier)
        if count < min_orders or code is None:
            continue
        screening = screen(modifier)
        if screening.verdict in ("reject", "review"):
            continue
        sensitive_cats: list[str] = []
        if screening.verdict == "sensitive":
            if consent_id is None:
                continue
            sensitive_cats = list(screening.sensitive_categories)
        why = f"on {count} orders, last {seen.date().isoformat()} (>= {min_orders} orders)"
        wanted[(label_rules.MODIFIER_RULE_ID, code)] = (
            "service_need",
            why,
            consent_id if sensitive_cats else None,
            sensitive_cats,
        )
    existing = _computed_labels(session, member_id, [label_rules.MODIFIER_RULE_ID])
    return _sync_computed(session, member_id=member_id, wanted=wanted, existing=existing, actor=who)


def members_with_recurring_modifiers(
    session: Session, *, min_orders: int = label_rules.MODIFIER_MIN_ORDERS
) -> list[str]:
    """Active members whose orders carry some modifier on at least `min_orders` orders.

    One pass over the order lines that have modifiers, so a refresh touches only the
    members who can have a service-need label.
    """
    stmt = (
        select(Order.member_id, Order.id, OrderLine.modifiers)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Member, Member.id == Order.member_id)
        .where(Member.status == MemberStatus.ACTIVE)
    )
    seen: dict[tuple[str, str], set[str]] = {}
    for member_id, order_id, modifiers in session.execute(stmt).yield_per(50_000):
        for modifier in modifiers or []:
            seen.setdefault((str(member_id), modifier), set()).add(order_id)
    return sorted({member for (member, _m), orders in seen.items() if len(orders) >= min_orders})
