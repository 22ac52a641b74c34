"""The scan: re-screen every stored label with today's guard and quarantine violations.

Catches what was stored before the guard existed or changed (legacy imports, older
lexicons). Reports carry ids and categories only, never texts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.errors import DecryptionError, Forbidden
from memberops.labels import rules as label_rules
from memberops.labels.guard import screen
from memberops.labels.models import Label
from memberops.labels.service import (
    LABEL_TEXT_ENCRYPTION,
    SENSITIVE_PURPOSE,
    record_label_event,
)
from memberops.privacy import audit
from memberops.privacy.consent import has_consent
from memberops.privacy.crypto import KeyRing

__all__ = ["ScanReport", "scan_labels"]


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
        return keyring.decrypt(label.text_enc, row_id=label.id, **LABEL_TEXT_ENCRYPTION)
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
        record_label_event(session, label, "quarantined", actor, why)
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
