"""Service-desk use cases: opening hours, complaints with SLA, call-backs, surveys.

Seed 004 lists the duties: regular call-backs, surveys, fast complaint handling and an
archive per customer. Services flush and never commit (the edge owns the transaction);
every write and every read of a member's service history is audited. Staff bound to a
store act on that store only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.catalog.models import Store
from memberops.db import utcnow
from memberops.errors import Conflict, Forbidden, NotFound, ValidationError
from memberops.members.models import MemberStatus
from memberops.members.service import get_member_or_raise
from memberops.orders.counted import counted_orders_query
from memberops.privacy import audit
from memberops.privacy.crypto import KeyRing
from memberops.servicedesk import rules
from memberops.servicedesk.models import (
    Callback,
    Complaint,
    StoreOpeningHours,
    SurveyResponse,
    SurveyTemplate,
)

__all__ = [
    "CALLBACK_AFTER_COMPLAINT_MINUTES",
    "CALLBACK_AFTER_FIRST_VISIT_MINUTES",
    "COMPLAINT_CATEGORIES",
    "SLA_MINUTES",
    "complaint_view",
    "complete_callback",
    "create_survey_template",
    "due_callbacks",
    "erase_service_texts",
    "escalate_lapsed",
    "export_service_history",
    "get_complaint_or_raise",
    "list_complaints",
    "list_survey_templates",
    "nps_by_store",
    "open_complaint",
    "opening_hours_of",
    "record_survey_response",
    "resolve_complaint",
    "schedule_first_visit_callbacks",
    "set_opening_hours",
    "store_by_code_or_raise",
    "store_code_of",
    "update_complaint",
]

COMPLAINT_CATEGORIES = ("food", "service", "wait", "hygiene", "billing", "membership", "other")
# Opening minutes allowed from intake to resolution, by severity.
SLA_MINUTES = {"high": 60, "normal": 240, "low": 720}
# A first-time guest is called within about one opening day; a complaint's call-back
# comes half a day of opening time after the resolution, to ask whether it held.
CALLBACK_AFTER_FIRST_VISIT_MINUTES = 12 * 60
CALLBACK_AFTER_COMPLAINT_MINUTES = 6 * 60
MAX_ESCALATION = 3
_TEXT_CHARS = 2000
_ENC_DESCRIPTION = {"table": "complaints", "column": "description_enc"}
_ENC_RESOLUTION = {"table": "complaints", "column": "resolution_enc"}


# ---------------------------------------------------------------------------- stores
def store_by_code_or_raise(session: Session, code: str) -> Store:
    """The store with this code; NotFound otherwise."""
    store = session.scalar(select(Store).where(Store.code == code))
    if store is None:
        raise NotFound(f"store {code} not found")
    return store


def store_code_of(session: Session, store_id: str) -> str:
    """The code of a store known by id."""
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound(f"store {store_id} not found")
    return store.code


def _store_zone(store: Store) -> ZoneInfo:
    try:
        return ZoneInfo(store.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError("store", "timezone", "is not a known time zone") from error


def _in_scope(actor: Actor, store: Store) -> None:
    """Staff bound to a store act on that store only (same rule as the API keys)."""
    if (
        actor.store_code
        and actor.role not in ("admin", "system")
        and actor.store_code != store.code
    ):
        raise Forbidden(f"this key acts for store {actor.store_code} only")


def opening_hours_of(session: Session, store_id: str) -> dict[int, tuple[rules.Window, ...]]:
    """The store's weekly opening windows, or the default 10:00-22:00 when none are set."""
    rows = session.scalars(
        select(StoreOpeningHours)
        .where(StoreOpeningHours.store_id == store_id)
        .order_by(StoreOpeningHours.weekday, StoreOpeningHours.opens_at)
    ).all()
    if not rows:
        return dict(rules.DEFAULT_OPENING_HOURS)
    hours: dict[int, list[rules.Window]] = {}
    for row in rows:
        hours.setdefault(row.weekday, []).append(rules.Window(row.opens_at, row.closes_at))
    return {day: tuple(windows) for day, windows in hours.items()}


def set_opening_hours(
    session: Session, store_code: str, week: Mapping[int, Sequence[str]], *, actor: Actor
) -> dict[int, tuple[rules.Window, ...]]:
    """Replace a store's opening hours: `{0: ["10:00-14:00", "17:00-02:00"], ...}`.

    A weekday left out is closed; an empty mapping restores the default hours.
    """
    store = store_by_code_or_raise(session, store_code)
    parsed: dict[int, list[rules.Window]] = {}
    for day, texts in week.items():
        if day not in range(7):
            raise ValidationError("opening hours", "weekday", "must be 0 (Monday) to 6 (Sunday)")
        try:
            parsed[day] = [rules.parse_window(text) for text in texts]
        except ValueError as error:
            raise ValidationError("opening hours", "window", str(error)) from error
    session.query(StoreOpeningHours).filter(StoreOpeningHours.store_id == store.id).delete()
    for day, windows in parsed.items():
        for window in windows:
            session.add(
                StoreOpeningHours(
                    store_id=store.id, weekday=day, opens_at=window.opens, closes_at=window.closes
                )
            )
    session.flush()
    audit.record(session, actor, "servicedesk.hours", reason=f"opening hours of {store.code}")
    return opening_hours_of(session, store.id)


def _clean(record: str, field: str, text: str | None, *, required: bool) -> str | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise ValidationError(record, field, "is required")
        return None
    if len(text) > _TEXT_CHARS:
        raise ValidationError(record, field, f"must be at most {_TEXT_CHARS} characters")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise ValidationError(record, field, "must not contain control characters")
    return text


def _member_id(session: Session, member_id: str | None) -> str | None:
    if member_id is None:
        return None
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        raise NotFound(f"member {member_id} not found")
    return member.id


# ---------------------------------------------------------------------------- complaints
def open_complaint(
    session: Session,
    keyring: KeyRing,
    *,
    store_code: str,
    category: str,
    description: str,
    actor: Actor,
    member_id: str | None = None,
    channel: str = "staff",
    severity: str = "normal",
    owner: str | None = None,
) -> Complaint:
    """Take a complaint; its SLA clock starts now and runs on the store's opening hours."""
    store = store_by_code_or_raise(session, store_code)
    _in_scope(actor, store)
    if category not in COMPLAINT_CATEGORIES:
        raise ValidationError(
            "complaint", "category", f"must be one of {', '.join(COMPLAINT_CATEGORIES)}"
        )
    if severity not in SLA_MINUTES:
        raise ValidationError("complaint", "severity", f"must be one of {', '.join(SLA_MINUTES)}")
    text = _clean("complaint", "description", description, required=True)
    assert text is not None
    if actor.role == "member":
        member_id = actor.member_id  # a member files complaints about their own visits only
    current_member = _member_id(session, member_id)
    now = utcnow()
    minutes = SLA_MINUTES[severity]
    due = rules.add_business_minutes(
        now, minutes, opening_hours_of(session, store.id), _store_zone(store)
    )
    complaint = Complaint(
        member_id=current_member,
        store_id=store.id,
        channel=channel[:24],
        category=category,
        severity=severity,
        status="open",
        owner=_clean("complaint", "owner", owner, required=False),
        sla_minutes=minutes,
        opened_at=now,
        due_at=due,
        created_by=actor.label[:120],
    )
    session.add(complaint)
    session.flush()
    complaint.description_enc = keyring.encrypt(text, row_id=complaint.id, **_ENC_DESCRIPTION)
    session.flush()
    audit.record(
        session,
        actor,
        "complaint.open",
        member_id=current_member,
        fields=["complaint"],
        reason=f"complaint {complaint.id} at {store.code} ({category}, {severity})",
    )
    return complaint


def get_complaint_or_raise(session: Session, complaint_id: str, *, actor: Actor) -> Complaint:
    """The complaint, if the actor's store scope reaches it; NotFound otherwise."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"complaint {complaint_id} not found")
    if actor.role == "member" and complaint.member_id != actor.member_id:
        raise NotFound(f"complaint {complaint_id} not found")
    store = session.get(Store, complaint.store_id)
    assert store is not None
    _in_scope(actor, store)
    return complaint


def update_complaint(
    session: Session,
    complaint_id: str,
    *,
    actor: Actor,
    status: str | None = None,
    owner: str | None = None,
) -> Complaint:
    """Take ownership or move a complaint along (open -> in_progress); resolving has its
    own use case because it needs a resolution and schedules the call-back."""
    complaint = get_complaint_or_raise(session, complaint_id, actor=actor)
    if status is not None:
        if status not in ("open", "in_progress", "closed"):
            raise ValidationError(
                "complaint", "status", "must be open, in_progress or closed (resolve separately)"
            )
        if status == "closed" and complaint.status != "resolved":
            raise Conflict(f"complaint {complaint_id} must be resolved before it is closed")
        if complaint.status in ("resolved", "closed") and status in rules.OPEN_STATUSES:
            raise Conflict(f"complaint {complaint_id} is already {complaint.status}")
        complaint.status = status
    if owner is not None:
        complaint.owner = _clean("complaint", "owner", owner, required=False)
    session.flush()
    audit.record(
        session,
        actor,
        "complaint.update",
        member_id=complaint.member_id,
        fields=[f for f, v in (("status", status), ("owner", owner)) if v is not None],
        reason=f"complaint {complaint.id}",
    )
    return complaint


def resolve_complaint(
    session: Session,
    keyring: KeyRing,
    complaint_id: str,
    *,
    resolution: str,
    actor: Actor,
    callback: bool = True,
) -> tuple[Complaint, Callback | None]:
    """Resolve with what was done; a member's complaint gets a call-back scheduled."""
    complaint = get_complaint_or_raise(session, complaint_id, actor=actor)
    if complaint.status not in rules.OPEN_STATUSES:
        raise Conflict(f"complaint {complaint_id} is already {complaint.status}")
    text = _clean("complaint", "resolution", resolution, required=True)
    assert text is not None
    now = utcnow()
    complaint.status = "resolved"
    complaint.resolved_at = now
    complaint.resolution_enc = keyring.encrypt(text, row_id=complaint.id, **_ENC_RESOLUTION)
    scheduled: Callback | None = None
    if callback and complaint.member_id is not None:
        store = session.get(Store, complaint.store_id)
        assert store is not None
        due = rules.add_business_minutes(
            now,
            CALLBACK_AFTER_COMPLAINT_MINUTES,
            opening_hours_of(session, store.id),
            _store_zone(store),
        )
        scheduled = Callback(
            member_id=complaint.member_id,
            store_id=complaint.store_id,
            reason="complaint",
            complaint_id=complaint.id,
            due_at=due,
            status="due",
            dedupe_key=f"complaint:{complaint.id}",
        )
        session.add(scheduled)
    session.flush()
    audit.record(
        session,
        actor,
        "complaint.resolve",
        member_id=complaint.member_id,
        fields=["resolution", *(["callback"] if scheduled else [])],
        reason=f"complaint {complaint.id}",
    )
    return complaint, scheduled


def complaint_view(
    session: Session, keyring: KeyRing, complaint: Complaint, *, now: datetime | None = None
) -> dict[str, Any]:
    """The complaint as the desk sees it, with its SLA state and opening minutes left."""
    now = now or utcnow()
    store = session.get(Store, complaint.store_id)
    assert store is not None
    hours = opening_hours_of(session, store.id)
    zone = _store_zone(store)
    end = complaint.resolved_at or now
    return {
        "id": complaint.id,
        "member_id": complaint.member_id,
        "store_code": store.code,
        "channel": complaint.channel,
        "category": complaint.category,
        "severity": complaint.severity,
        "status": complaint.status,
        "owner": complaint.owner,
        "description": keyring.decrypt(
            complaint.description_enc, row_id=complaint.id, **_ENC_DESCRIPTION
        )
        if complaint.description_enc
        else None,
        "resolution": keyring.decrypt(
            complaint.resolution_enc, row_id=complaint.id, **_ENC_RESOLUTION
        )
        if complaint.resolution_enc
        else None,
        "opened_at": complaint.opened_at,
        "due_at": complaint.due_at,
        "resolved_at": complaint.resolved_at,
        "sla_minutes": complaint.sla_minutes,
        "sla_state": rules.sla_state(
            due_at=complaint.due_at, now=now, resolved_at=complaint.resolved_at
        ),
        "minutes_left": rules.business_minutes_between(end, complaint.due_at, hours, zone),
        "escalation_level": complaint.escalation_level,
        "created_by": complaint.created_by,
    }


def list_complaints(
    session: Session,
    *,
    actor: Actor,
    store_code: str | None = None,
    status: str | None = None,
    member_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Complaint], int]:
    """Complaints newest first, within the actor's store scope; (page, total)."""
    if actor.store_code and actor.role not in ("admin", "system"):
        store_code = actor.store_code
    stmt = select(Complaint)
    if store_code:
        stmt = stmt.where(Complaint.store_id == store_by_code_or_raise(session, store_code).id)
    if status:
        if status not in rules.COMPLAINT_STATUSES:
            raise ValidationError(
                "complaint", "status", f"must be one of {', '.join(rules.COMPLAINT_STATUSES)}"
            )
        stmt = stmt.where(Complaint.status == status)
    if member_id:
        stmt = stmt.where(Complaint.member_id == member_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = session.scalars(
        stmt.order_by(Complaint.opened_at.desc(), Complaint.id.desc()).limit(limit).offset(offset)
    ).all()
    audit.record(
        session,
        actor,
        "complaint.list",
        member_id=member_id,
        fields=["complaints"],
        reason=f"{len(page)} of {total} complaints",
    )
    return list(page), total


def escalate_lapsed(session: Session, *, actor: Actor, now: datetime | None = None) -> int:
    """Raise the escalation level of every open complaint past its due time.

    Level 1 when the SLA lapses, one more for each further SLA period of opening time it
    stays unresolved (up to 3: store manager, area manager, head office). Safe to run
    repeatedly: a level is raised once.
    """
    now = now or utcnow()
    raised = 0
    lapsed = session.scalars(
        select(Complaint).where(Complaint.status.in_(rules.OPEN_STATUSES), Complaint.due_at <= now)
    ).all()
    for complaint in lapsed:
        store = session.get(Store, complaint.store_id)
        assert store is not None
        overdue = rules.business_minutes_between(
            complaint.due_at, now, opening_hours_of(session, store.id), _store_zone(store)
        )
        level = min(MAX_ESCALATION, 1 + overdue // max(complaint.sla_minutes, 1))
        if level > complaint.escalation_level:
            complaint.escalation_level = level
            complaint.escalated_at = now
            raised += 1
            audit.record(
                session,
                actor,
                "complaint.escalate",
                member_id=complaint.member_id,
                reason=f"complaint {complaint.id} lapsed; escalation level {level}",
            )
    session.flush()
    return raised


# ---------------------------------------------------------------------------- call-backs
def schedule_first_visit_callbacks(
    session: Session, *, since: datetime, actor: Actor, until: datetime | None = None
) -> int:
    """A call-back for every member whose first counted visit falls in [since, until).

    Due a working day of opening time after the visit, at the store of that visit.
    Members already scheduled are skipped, so overlapping runs schedule once.
    """
    counted = counted_orders_query().subquery("counted")
    firsts = (
        select(counted.c.member_id, func.min(counted.c.ordered_at).label("first_at"))
        .group_by(counted.c.member_id)
        .subquery("firsts")
    )
    stmt = select(firsts.c.member_id, firsts.c.first_at).where(firsts.c.first_at >= since)
    if until is not None:
        stmt = stmt.where(firsts.c.first_at < until)
    candidates = session.execute(stmt).all()
    if not candidates:
        return 0
    keys = {f"first_visit:{member_id}" for member_id, _ in candidates}
    existing = set(
        session.scalars(select(Callback.dedupe_key).where(Callback.dedupe_key.in_(keys)))
    )
    stores: dict[str, Store] = {}
    created = 0
    for member_id, first_at in candidates:
        key = f"first_visit:{member_id}"
        if key in existing:
            continue
        order = session.execute(
            select(counted.c.order_id, counted.c.store_id).where(
                counted.c.member_id == member_id, counted.c.ordered_at == first_at
            )
        ).first()
        if order is None:
            continue
        store = stores.get(order.store_id) or session.get(Store, order.store_id)
        assert store is not None
        stores[store.id] = store
        assert isinstance(first_at, datetime)
        due = rules.add_business_minutes(
            first_at,
            CALLBACK_AFTER_FIRST_VISIT_MINUTES,
            opening_hours_of(session, store.id),
            _store_zone(store),
        )
        session.add(
            Callback(
                member_id=member_id,
                store_id=store.id,
                reason="first_visit",
                order_id=order.order_id,
                due_at=due,
                status="due",
                dedupe_key=key,
            )
        )
        created += 1
    session.flush()
    audit.record(
        session, actor, "callback.schedule", reason=f"{created} first-visit call-backs scheduled"
    )
    return created


def due_callbacks(
    session: Session,
    *,
    actor: Actor,
    store_code: str | None = None,
    due_before: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[Callback, str]]:
    """Call-backs still to make, earliest due first, with their store code."""
    if actor.store_code and actor.role not in ("admin", "system"):
        store_code = actor.store_code
    stmt = (
        select(Callback, Store.code)
        .join(Store, Store.id == Callback.store_id)
        .where(Callback.status == "due")
    )
    if store_code:
        stmt = stmt.where(Store.code == store_code)
    if due_before is not None:
        stmt = stmt.where(Callback.due_at < due_before)
    rows = [
        (cb, code)
        for cb, code in session.execute(
            stmt.order_by(Callback.due_at, Callback.id).limit(limit).offset(offset)
        )
    ]
    audit.record(
        session,
        actor,
        "callback.list",
        fields=["callbacks"],
        reason=f"{len(rows)} due call-backs" + (f" at {store_code}" if store_code else ""),
    )
    return rows


def complete_callback(
    session: Session, callback_id: str, *, outcome: str, actor: Actor, cancelled: bool = False
) -> Callback:
    """Record that the call was made (or will not be), with its outcome."""
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise NotFound(f"call-back {callback_id} not found")
    store = session.get(Store, callback.store_id)
    assert store is not None
    _in_scope(actor, store)
    if callback.status != "due":
        raise Conflict(f"call-back {callback_id} is already {callback.status}")
    text = _clean("call-back", "outcome", outcome, required=True)
    assert text is not None
    callback.status = "cancelled" if cancelled else "done"
    callback.outcome = text[:200]
    callback.done_at = utcnow()
    callback.done_by = actor.label[:120]
    session.flush()
    audit.record(
        session,
        actor,
        "callback.done",
        member_id=callback.member_id,
        fields=["outcome"],
        reason=f"call-back {callback.id} {callback.status}",
    )
    return callback


# ---------------------------------------------------------------------------- surveys
_QUESTION_KINDS = ("nps", "rating", "text", "choice")


def create_survey_template(
    session: Session, *, code: str, title: str, questions: Sequence[Mapping[str, Any]], actor: Actor
) -> SurveyTemplate:
    """A new questionnaire; at most one question may be the NPS question (0-10)."""
    code = code.strip()
    if not code or len(code) > 40 or not code.replace("_", "").replace("-", "").isalnum():
        raise ValidationError("survey", "code", "must be 1-40 letters, digits, - or _")
    if session.scalar(select(SurveyTemplate.id).where(SurveyTemplate.code == code)):
        raise Conflict(f"survey {code} already exists")
    cleaned: list[dict[str, Any]] = []
    for index, question in enumerate(questions):
        kind = question.get("kind")
        if kind not in _QUESTION_KINDS:
            raise ValidationError(
                "survey", f"questions[{index}].kind", f"must be one of {', '.join(_QUESTION_KINDS)}"
            )
        qid = str(question.get("id") or f"q{index + 1}")[:40]
        cleaned.append(
            {
                "id": qid,
                "kind": kind,
                "text_en": str(question.get("text_en") or "")[:200],
                "text_zh": str(question.get("text_zh") or "")[:200],
            }
        )
    if sum(q["kind"] == "nps" for q in cleaned) > 1:
        raise ValidationError("survey", "questions", "at most one NPS question")
    if not cleaned:
        raise ValidationError("survey", "questions", "at least one question")
    template = SurveyTemplate(code=code, title=title.strip()[:120] or code, questions=cleaned)
    session.add(template)
    session.flush()
    audit.record(session, actor, "survey.create", reason=f"survey {code}")
    return template


def list_survey_templates(session: Session) -> list[SurveyTemplate]:
    """Every survey template, oldest first."""
    return list(session.scalars(select(SurveyTemplate).order_by(SurveyTemplate.created_at)))


def record_survey_response(
    session: Session,
    *,
    survey_code: str,
    store_code: str,
    answers: Mapping[str, Any],
    actor: Actor,
    member_id: str | None = None,
    channel: str = "staff",
    order_id: str | None = None,
) -> SurveyResponse:
    """Store one set of answers; the NPS answer (0-10) is kept in its own column."""
    template = session.scalar(select(SurveyTemplate).where(SurveyTemplate.code == survey_code))
    if template is None or not template.active:
        raise NotFound(f"survey {survey_code} not found")
    store = store_by_code_or_raise(session, store_code)
    _in_scope(actor, store)
    if actor.role == "member":
        member_id = actor.member_id
    known = {q["id"]: q for q in template.questions}
    clean: dict[str, Any] = {}
    nps_score: int | None = None
    for qid, value in answers.items():
        question = known.get(qid)
        if question is None:
            raise ValidationError("survey response", f"answers.{qid}", "is not a question")
        if question["kind"] in ("nps", "rating"):
            top = 10 if question["kind"] == "nps" else 5
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
                raise ValidationError(
                    "survey response", f"answers.{qid}", f"must be a whole number 0-{top}"
                )
            if question["kind"] == "nps":
                nps_score = value
        else:
            clean_text = _clean("survey response", f"answers.{qid}", str(value), required=False)
            value = clean_text or ""
        clean[qid] = value
    response = SurveyResponse(
        template_id=template.id,
        member_id=_member_id(session, member_id),
        store_id=store.id,
        order_id=order_id,
        channel=channel[:24],
        nps_score=nps_score,
        answers=clean,
    )
    session.add(response)
    session.flush()
    audit.record(
        session,
        actor,
        "survey.response",
        member_id=response.member_id,
        fields=sorted(clean),
        reason=f"survey {survey_code} at {store.code}",
    )
    return response


def nps_by_store(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    store_code: str | None = None,
) -> list[dict[str, Any]]:
    """NPS per store over the answers in [since, until), stores without answers left out."""
    stmt = (
        select(Store.code, SurveyResponse.nps_score)
        .join(Store, Store.id == SurveyResponse.store_id)
        .where(SurveyResponse.nps_score.is_not(None))
    )
    if since is not None:
        stmt = stmt.where(SurveyResponse.answered_at >= since)
    if until is not None:
        stmt = stmt.where(SurveyResponse.answered_at < until)
    if store_code:
        stmt = stmt.where(Store.code == store_code)
    scores: dict[str, list[int]] = {}
    for code, score in session.execute(stmt):
        if score is not None:
            scores.setdefault(code, []).append(int(score))
    out = []
    for code in sorted(scores):
        count, value = rules.nps(scores[code])
        out.append({"store_code": code, "responses": count, "nps": value})
    return out


# ---------------------------------------------------------------------------- rights
def export_service_history(session: Session, keyring: KeyRing, member_id: str) -> dict[str, Any]:
    """The member's complaints, call-backs and survey answers, for their data export."""
    complaints = [
        complaint_view(session, keyring, c)
        for c in session.scalars(
            select(Complaint).where(Complaint.member_id == member_id).order_by(Complaint.opened_at)
        )
    ]
    for item in complaints:
        for key in ("opened_at", "due_at", "resolved_at"):
            item[key] = item[key].isoformat() if item[key] else None
    callbacks = [
        {
            "reason": cb.reason,
            "due_at": cb.due_at.isoformat(),
            "status": cb.status,
            "outcome": cb.outcome,
            "store_code": store_code_of(session, cb.store_id),
        }
        for cb in session.scalars(
            select(Callback).where(Callback.member_id == member_id).order_by(Callback.due_at)
        )
    ]
    surveys = [
        {
            "answered_at": r.answered_at.isoformat(),
            "store_code": store_code_of(session, r.store_id),
            "nps_score": r.nps_score,
            "answers": r.answers,
        }
        for r in session.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.member_id == member_id)
            .order_by(SurveyResponse.answered_at)
        )
    ]
    return {"complaints": complaints, "callbacks": callbacks, "survey_responses": surveys}


def erase_service_texts(session: Session, member_id: str) -> None:
    """On erasure: destroy what the member or staff wrote (complaint texts, call-back
    outcomes, free-text answers); counts, scores and SLA figures stay for the store."""
    session.execute(
        update(Complaint)
        .where(Complaint.member_id == member_id)
        .values(description_enc=None, resolution_enc=None)
    )
    session.execute(
        update(Callback)
        .where(Callback.member_id == member_id)
        .values(
            outcome=None,
            status=case((Callback.status == "due", "cancelled"), else_=Callback.status),
        )
    )
    for response in session.scalars(
        select(SurveyResponse).where(SurveyResponse.member_id == member_id)
    ):
        response.answers = {
            k: v for k, v in (response.answers or {}).items() if not isinstance(v, str)
        }
    session.flush()
