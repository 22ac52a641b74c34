"""Service-desk routes: /v1/complaints, /v1/callbacks, /v1/surveys, store opening hours.

Store-bound keys act on their own store only; a member key files complaints and answers
surveys for itself. Every read and write is audited by the services.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import AwareDatetime

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import OpaqueId, RuntimeDep, SessionDep
from memberops.api.errors import error_responses
from memberops.servicedesk import service
from memberops.servicedesk.models import Callback, Complaint
from memberops.servicedesk.schemas import (
    CallbackDone,
    CallbackRead,
    CallbacksRead,
    ComplaintCreate,
    ComplaintRead,
    ComplaintResolve,
    ComplaintsRead,
    ComplaintUpdate,
    EscalationRead,
    FirstVisitSchedule,
    NpsRead,
    OpeningHoursIn,
    ScheduledRead,
    StoreNps,
    SurveyCreate,
    SurveyRead,
    SurveyResponseCreate,
    SurveyResponseRead,
)

__all__ = ["callbacks_router", "complaints_router", "routers", "stores_router", "surveys_router"]

complaints_router = APIRouter(prefix="/complaints", tags=["service desk"])
# Its own resource, not `/complaints/escalate`: that path would also be an id under
# `/complaints/{complaint_id}`.
escalations_router = APIRouter(prefix="/complaint-escalations", tags=["service desk"])
callbacks_router = APIRouter(prefix="/callbacks", tags=["service desk"])
surveys_router = APIRouter(prefix="/surveys", tags=["service desk"])
stores_router = APIRouter(prefix="/stores", tags=["service desk"])

DeskDep = Annotated[Actor, Depends(require_roles("admin", "manager", "staff"))]
IntakeDep = Annotated[Actor, Depends(require_roles("admin", "manager", "staff", "member"))]
AdminDep = Annotated[Actor, Depends(require_roles("admin"))]
ManagerDep = Annotated[Actor, Depends(require_roles("admin", "manager"))]
NpsDep = Annotated[Actor, Depends(require_roles("admin", "manager", "marketer", "analyst"))]
SurveyReaderDep = Annotated[
    Actor, Depends(require_roles("admin", "manager", "staff", "marketer", "analyst"))
]
AnswerDep = Annotated[Actor, Depends(require_roles("admin", "manager", "staff", "pos", "member"))]

_RW = error_responses(400, 401, 403, 404, 409, 422)
_LIST = error_responses(401, 403, 404, 422)


def _complaint(
    session: SessionDep, runtime: RuntimeDep, complaint: Complaint, callback: Callback | None = None
) -> ComplaintRead:
    view = service.complaint_view(session, runtime.keyring, complaint)
    return ComplaintRead(**view, callback_id=callback.id if callback else None)


@complaints_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ComplaintRead, responses=_RW
)
def post_complaint(
    body: ComplaintCreate, session: SessionDep, runtime: RuntimeDep, actor: IntakeDep
) -> ComplaintRead:
    """Take a complaint; its SLA clock runs on the store's opening hours."""
    complaint = service.open_complaint(
        session,
        runtime.keyring,
        store_code=body.store_code,
        category=body.category,
        description=body.description,
        member_id=body.member_id,
        channel=body.channel,
        severity=body.severity,
        owner=body.owner,
        actor=actor,
    )
    return _complaint(session, runtime, complaint)


@complaints_router.get("", response_model=ComplaintsRead, responses=_LIST)
def get_complaints(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: DeskDep,
    store: Annotated[str | None, Query(max_length=32)] = None,
    status_: Annotated[
        Literal["open", "in_progress", "resolved", "closed"] | None, Query(alias="status")
    ] = None,
    member_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{26}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ComplaintsRead:
    """Complaints newest first (a store-bound key sees its own store only)."""
    page, total = service.list_complaints(
        session,
        actor=actor,
        store_code=store,
        status=status_,
        member_id=member_id,
        limit=limit,
        offset=offset,
    )
    return ComplaintsRead(
        complaints=[_complaint(session, runtime, c) for c in page],
        total=total,
        limit=limit,
        offset=offset,
    )


@complaints_router.get("/{complaint_id}", response_model=ComplaintRead, responses=_RW)
def get_complaint(
    complaint_id: OpaqueId, session: SessionDep, runtime: RuntimeDep, actor: IntakeDep
) -> ComplaintRead:
    """One complaint with its SLA state."""
    complaint = service.get_complaint_or_raise(session, complaint_id, actor=actor)
    return _complaint(session, runtime, complaint)


@complaints_router.patch("/{complaint_id}", response_model=ComplaintRead, responses=_RW)
def patch_complaint(
    complaint_id: OpaqueId,
    body: ComplaintUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: DeskDep,
) -> ComplaintRead:
    """Take ownership, start work, or close a resolved complaint."""
    complaint = service.update_complaint(
        session, complaint_id, actor=actor, status=body.status, owner=body.owner
    )
    return _complaint(session, runtime, complaint)


@complaints_router.post("/{complaint_id}/resolve", response_model=ComplaintRead, responses=_RW)
def resolve(
    complaint_id: OpaqueId,
    body: ComplaintResolve,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: DeskDep,
) -> ComplaintRead:
    """Resolve with what was done; schedules the member's call-back."""
    complaint, callback = service.resolve_complaint(
        session,
        runtime.keyring,
        complaint_id,
        resolution=body.resolution,
        callback=body.callback,
        actor=actor,
    )
    return _complaint(session, runtime, complaint, callback)


@escalations_router.post("", response_model=EscalationRead, responses=error_responses(401, 403))
def escalate(session: SessionDep, actor: ManagerDep) -> EscalationRead:
    """Raise the escalation level of lapsed complaints (run it from a timer)."""
    return EscalationRead(escalated=service.escalate_lapsed(session, actor=actor))


def _callback(callback: Callback, store_code: str) -> CallbackRead:
    return CallbackRead(
        id=callback.id,
        member_id=callback.member_id,
        store_code=store_code,
        reason=callback.reason,
        complaint_id=callback.complaint_id,
        due_at=callback.due_at,
        status=callback.status,
        outcome=callback.outcome,
    )


@callbacks_router.get("", response_model=CallbacksRead, responses=_LIST)
def get_callbacks(
    session: SessionDep,
    actor: DeskDep,
    store: Annotated[str | None, Query(max_length=32)] = None,
    due_before: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CallbacksRead:
    """The due list, earliest first (a store-bound key sees its own store only)."""
    rows = service.due_callbacks(
        session, actor=actor, store_code=store, due_before=due_before, limit=limit, offset=offset
    )
    return CallbacksRead(
        callbacks=[_callback(cb, code) for cb, code in rows], limit=limit, offset=offset
    )


@callbacks_router.post("/{callback_id}/done", response_model=CallbackRead, responses=_RW)
def callback_done(
    callback_id: OpaqueId, body: CallbackDone, session: SessionDep, actor: DeskDep
) -> CallbackRead:
    """Record the call's outcome (or cancel it)."""
    callback = service.complete_callback(
        session, callback_id, outcome=body.outcome, cancelled=body.cancelled, actor=actor
    )
    store = service.store_code_of(session, callback.store_id)
    return _callback(callback, store)


@callbacks_router.post(
    "/first-visits", response_model=ScheduledRead, responses=error_responses(400, 401, 403, 422)
)
def schedule_first_visits(
    body: FirstVisitSchedule, session: SessionDep, actor: ManagerDep
) -> ScheduledRead:
    """Schedule call-backs for members whose first visit falls in the window."""
    created = service.schedule_first_visit_callbacks(
        session, since=body.since, until=body.until, actor=actor
    )
    return ScheduledRead(scheduled=created)


def _survey(template: object) -> SurveyRead:
    return SurveyRead.model_validate(template, from_attributes=True)


@surveys_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=SurveyRead, responses=_RW
)
def post_survey(body: SurveyCreate, session: SessionDep, actor: AdminDep) -> SurveyRead:
    """Create a survey template (questions in Chinese and English)."""
    template = service.create_survey_template(
        session,
        code=body.code,
        title=body.title,
        questions=[q.model_dump() for q in body.questions],
        actor=actor,
    )
    return _survey(template)


@surveys_router.get("", response_model=list[SurveyRead], responses=error_responses(401, 403))
def get_surveys(session: SessionDep, actor: SurveyReaderDep) -> list[SurveyRead]:
    """Every survey template."""
    return [_survey(t) for t in service.list_survey_templates(session)]


@surveys_router.get("/nps", response_model=NpsRead, responses=error_responses(401, 403, 422))
def get_nps(
    session: SessionDep,
    actor: NpsDep,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    store: Annotated[str | None, Query(max_length=32)] = None,
) -> NpsRead:
    """Net Promoter Score per store over the window."""
    if actor.store_code and actor.role != "admin":
        store = actor.store_code
    rows = service.nps_by_store(session, since=since, until=until, store_code=store)
    return NpsRead(stores=[StoreNps(**row) for row in rows])


@surveys_router.post(
    "/{survey_code}/responses",
    status_code=status.HTTP_201_CREATED,
    response_model=SurveyResponseRead,
    responses=_RW,
)
def post_response(
    survey_code: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")],
    body: SurveyResponseCreate,
    session: SessionDep,
    actor: AnswerDep,
) -> SurveyResponseRead:
    """Record one set of answers."""
    response = service.record_survey_response(
        session,
        survey_code=survey_code,
        store_code=body.store_code,
        member_id=body.member_id,
        order_id=body.order_id,
        channel=body.channel,
        answers=body.answers,
        actor=actor,
    )
    return SurveyResponseRead(
        id=response.id,
        survey_code=survey_code,
        store_code=body.store_code,
        member_id=response.member_id,
        nps_score=response.nps_score,
    )


@stores_router.put(
    "/{store_code}/opening-hours", response_model=dict[int, list[str]], responses=_RW
)
def put_opening_hours(
    store_code: Annotated[str, Path(max_length=32)],
    body: OpeningHoursIn,
    session: SessionDep,
    actor: AdminDep,
) -> dict[int, list[str]]:
    """Replace a store's weekly opening hours (local time; "10:00-02:00" ends next day)."""
    hours = service.set_opening_hours(session, store_code, body.week, actor=actor)
    return {
        day: [f"{w.opens:%H:%M}-{w.closes:%H:%M}" for w in windows]
        for day, windows in sorted(hours.items())
    }


routers = [complaints_router, escalations_router, callbacks_router, surveys_router, stores_router]
