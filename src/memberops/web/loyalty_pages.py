"""Console pages for loyalty: the tier policy, points adjustments, voucher statements.

- `/loyalty/policy` (admin): the active policy and its history; a draft pasted or
  uploaded is validated (errors name the line and the field), simulated against the
  active one (moves per tier drawn, as a table and as CSV) and activated after an
  explicit confirmation.
- `/loyalty/adjustments` (admin, manager ask; admin decides): a points adjustment with a
  reason; above MEMBEROPS_ADJUSTMENT_APPROVAL_POINTS (default 500) it waits for a second
  person, who can never be the one who asked (`memberops.loyalty.approvals`).
- `/members/{id}/statement` (admin, manager, staff): the points and voucher statement of
  one member for a period, from `loyalty.service.statement`.

Each route opens one transaction at the edge, like the rest of the console.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import transaction, utcnow
from memberops.errors import Forbidden, MemberOpsError, ValidationError
from memberops.loyalty import approvals
from memberops.loyalty import service as loyalty
from memberops.loyalty.models import TierPolicyDoc
from memberops.loyalty.rules import DEFAULT_POLICY_TOML, parse_policy
from memberops.privacy import audit
from memberops.web.endpoints import _check_csrf, _error_page, _runtime, _signed_in, render
from memberops.web.models import ConsoleSession

__all__ = ["STATEMENT_ROLES", "approval_threshold", "router"]

router = APIRouter(include_in_schema=False)

STATEMENT_ROLES = ("admin", "manager", "staff")
_POLICY_BYTES = 64 * 1024
_THRESHOLD_ENV = "MEMBEROPS_ADJUSTMENT_APPROVAL_POINTS"
_DONE = {
    "posted": "adjust.posted",
    "pending": "adjust.filed",
    "approved": "adjust.approved",
    "rejected": "adjust.rejected",
}


def approval_threshold() -> int:
    """Points above which an adjustment needs a second person (environment, else 500)."""
    raw = os.environ.get(_THRESHOLD_ENV, "").strip()
    if raw.isdigit():
        return int(raw)
    return approvals.DEFAULT_THRESHOLD


def _admin_only(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("the tier policy needs the admin role")


# ---------------------------------------------------------------------------- policy
def _active_document(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(TierPolicyDoc.version, TierPolicyDoc.document).where(
            TierPolicyDoc.status == "active"
        )
    ).first()
    if row is None:
        return 0, DEFAULT_POLICY_TOML
    return int(row.version), str(row.document)


async def _draft(document: str, upload: UploadFile | None) -> str:
    """The pasted draft, or the uploaded file when one was chosen."""
    if upload is not None and upload.filename:
        raw = await upload.read(_POLICY_BYTES + 1)
        if len(raw) > _POLICY_BYTES:
            raise ValidationError("policy file", "upload", f"is larger than {_POLICY_BYTES} bytes")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("policy file", "upload", "is not UTF-8 text") from None
    if len(document.encode()) > _POLICY_BYTES:
        raise ValidationError("policy", "document", f"is larger than {_POLICY_BYTES} bytes")
    return document


def _moves(result: dict[str, Any]) -> dict[str, Any]:
    """Simulation numbers as tables: members per tier now and proposed, and each move."""
    tiers = list(dict.fromkeys([*result["tiers_active"], *result["tiers_proposed"]]))
    per_tier = [
        [code, result["tiers_active"].get(code, 0), result["tiers_proposed"].get(code, 0)]
        for code in tiers
    ]
    moves = []
    for direction in ("up", "down"):
        for move, n in sorted(result[f"moves_{direction}"].items(), key=lambda kv: -kv[1]):
            source, target = move.split("->", 1)
            moves.append([source, target, direction, n])
    return {"per_tier": per_tier, "moves": moves}


def _policy_page(
    request: Request,
    session: Session,
    actor: Actor,
    row: ConsoleSession,
    *,
    draft: str | None = None,
    checked: dict[str, Any] | None = None,
    error: ValidationError | None = None,
    simulation: dict[str, Any] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    version, document = _active_document(session)
    return render(
        request,
        "policy.html",
        actor=actor,
        csrf=row.csrf_token,
        active_version=version,
        active_document=document,
        history=loyalty.policy_history(session),
        draft=document if draft is None else draft,
        checked=checked,
        error=error,
        simulation=simulation,
        notice=notice,
        status_code=status_code,
    )


@router.get("/loyalty/policy", response_class=HTMLResponse)
def policy_page(request: Request, activated: int = 0) -> HTMLResponse:
    """The active tier policy, its history, and a draft to validate, simulate, activate."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            _admin_only(actor)
        except MemberOpsError as err:
            session.rollback()
            return _error_page(request, err, actor, row.csrf_token)
        notice = "policy.activated" if activated else None
        return _policy_page(request, session, actor, row, notice=notice)


async def _policy_action(
    request: Request, csrf: str, document: str, upload: UploadFile | None, action: str
) -> Response:
    """Validate, simulate or activate a draft; a draft error re-renders the page."""
    text = None
    read_error: ValidationError | None = None
    try:
        text = await _draft(document, upload)
    except ValidationError as err:
        read_error = err
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            _admin_only(actor)
        except MemberOpsError as err:
            session.rollback()
            return _error_page(request, err, actor, row.csrf_token)
        if read_error is not None or text is None:
            return _policy_page(
                request, session, actor, row, draft=document, error=read_error, status_code=422
            )
        try:
            policy = parse_policy(text)
        except ValidationError as err:
            return _policy_page(
                request, session, actor, row, draft=text, error=err, status_code=422
            )
        checked = {"name": policy.name, "tiers": [t.code for t in policy.tiers]}
        if action == "validate":
            return _policy_page(request, session, actor, row, draft=text, checked=checked)
        if action == "simulate":
            result = loyalty.simulate_policy(session, policy)
            simulation = {**result, **_moves(result), "diff_count": len(result["diff"])}
            audit.record(session, actor, "loyalty.policy_simulate", reason="console simulation")
            return _policy_page(
                request, session, actor, row, draft=text, checked=checked, simulation=simulation
            )
        doc = loyalty.activate_policy(session, text, actor=actor)
        version = doc.version
    return RedirectResponse(f"/loyalty/policy?activated={version}", status_code=303)


@router.post("/loyalty/policy/validate", response_class=HTMLResponse)
async def policy_validate(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    document: Annotated[str, Form(max_length=_POLICY_BYTES)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Check a draft: its name and tiers, or the line and field of the first error."""
    return await _policy_action(request, csrf, document, upload, "validate")


@router.post("/loyalty/policy/simulate", response_class=HTMLResponse)
async def policy_simulate(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    document: Annotated[str, Form(max_length=_POLICY_BYTES)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Replay history under the draft and the active policy; nothing is written."""
    return await _policy_action(request, csrf, document, upload, "simulate")


@router.post("/loyalty/policy/activate", response_class=HTMLResponse)
async def policy_activate(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    document: Annotated[str, Form(max_length=_POLICY_BYTES)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Make the draft the active policy, once the admin has ticked the confirmation."""
    if confirm != "yes":
        with transaction(_runtime(request).sessions) as session:
            actor, row = _signed_in(request, session)
            _check_csrf(row, csrf)
            return _policy_page(
                request,
                session,
                actor,
                row,
                draft=document,
                error=ValidationError("activation", "confirm", "tick the confirmation first"),
                status_code=422,
            )
    return await _policy_action(request, csrf, document, None, "activate")


@router.post("/loyalty/policy/simulation.csv")
def policy_simulation_csv(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    document: Annotated[str, Form(max_length=_POLICY_BYTES)],
    kind: Annotated[str, Form(max_length=8)] = "moves",
) -> Response:
    """The simulation as CSV: the moves per tier, or the member-by-member diff."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            _admin_only(actor)
            result = loyalty.simulate_policy(session, parse_policy(document))
        except MemberOpsError as err:
            session.rollback()
            return _error_page(request, err, actor, row.csrf_token)
        if kind == "members":
            body = loyalty.diff_csv(result)
            audit.record(
                session,
                actor,
                "loyalty.policy_simulate",
                fields=["member_id", "tier"],
                reason=f"console simulation diff CSV, {len(result['diff'])} members",
            )
        else:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["from", "to", "direction", "members"])
            writer.writerows(_moves(result)["moves"])
            body = out.getvalue()
    name = "simulation-members.csv" if kind == "members" else "simulation-moves.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---------------------------------------------------------------------------- adjustments
def _request_view(r: approvals.AdjustmentRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "member_id": r.member_id,
        "points": r.points,
        "reason": r.reason,
        "status": r.status,
        "requested_by": r.requested_by,
        "requested_by_id": r.requested_by_id,
        "requested_at": r.requested_at,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "note": r.decision_note,
    }


@router.get("/loyalty/adjustments", response_class=HTMLResponse)
def adjustments_page(
    request: Request,
    member: Annotated[str, Query(max_length=26)] = "",
    done: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    """Ask for an adjustment; the pending ones, for another admin to decide."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            pending, total = approvals.list_adjustments(session, actor=actor, status="pending")
            recent, _ = approvals.list_adjustments(session, actor=actor, status=None, limit=20)
        except MemberOpsError as err:
            session.rollback()
            return _error_page(request, err, actor, row.csrf_token)
        return render(
            request,
            "adjustments.html",
            actor=actor,
            csrf=row.csrf_token,
            me=f"{actor.kind}:{actor.id}",
            member=member,
            pending=[_request_view(r) for r in pending],
            pending_total=total,
            recent=[_request_view(r) for r in recent if r.status != "pending"],
            threshold=approval_threshold(),
            can_decide=actor.role in approvals.APPROVER_ROLES,
            notice=_DONE.get(done),
        )


@router.post("/loyalty/adjustments")
def adjustment_request(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    member_id: Annotated[str, Form(max_length=26)],
    points: Annotated[int, Form(ge=-approvals.MAX_POINTS, le=approvals.MAX_POINTS)],
    reason: Annotated[str, Form(max_length=200)],
) -> Response:
    """Post an adjustment, or file it for approval when it is above the threshold."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            outcome = approvals.request_adjustment(
                session,
                member_id=member_id.strip(),
                points=points,
                reason=reason,
                actor=actor,
                threshold=approval_threshold(),
            )
        except MemberOpsError as err:
            session.rollback()
            return _error_page(request, err, actor, row.csrf_token)
    done = "posted" if outcome.posted else "pending"
    return RedirectResponse(f"/loyalty/adjustments?done={done}", status_code=303)


def _decide(request: Request, request_id: str, csrf: str, note: str, approve: bool) -> Response:
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            if approve:
                approvals.approve_adjustment(session, request_id=request_id, actor=actor, note=note)
            else:
                approvals.reject_adjustment(session, request_id=request_id, actor=actor, note=note)
        except MemberOpsError as err:
            # Keep the audited denial (a requester deciding their own request) and show why.
            if isinstance(err, Forbidden):
                session.commit()
            else:
                session.rollback()
            return _error_page(request, err, actor, row.csrf_token)
    done = "approved" if approve else "rejected"
    return RedirectResponse(f"/loyalty/adjustments?done={done}", status_code=303)


@router.post("/loyalty/adjustments/{request_id}/approve")
def adjustment_approve(
    request: Request,
    request_id: str,
    csrf: Annotated[str, Form(max_length=100)],
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A second person approves: the points post in the same transaction."""
    return _decide(request, request_id, csrf, note, approve=True)


@router.post("/loyalty/adjustments/{request_id}/reject")
def adjustment_reject(
    request: Request,
    request_id: str,
    csrf: Annotated[str, Form(max_length=100)],
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A second person rejects: nothing posts."""
    return _decide(request, request_id, csrf, note, approve=False)


# ---------------------------------------------------------------------------- statements
def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("statement", field, "is not a date (YYYY-MM-DD)") from None


@router.get("/members/{member_id}/statement", response_class=HTMLResponse)
def statement_page(
    request: Request,
    member_id: str,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> HTMLResponse:
    """A member's points and voucher statement for a period (default: the last year)."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            if actor.role not in STATEMENT_ROLES:
                raise Forbidden(f"statements need one of the roles: {', '.join(STATEMENT_ROLES)}")
            _, policy = loyalty.active_policy(session)
            today = utcnow().astimezone(policy.zone).date()
            first = _day(start, "from") if start else today - timedelta(days=365)
            last = _day(end, "to") if end else today
            if last < first:
                raise ValidationError("statement", "to", "is before from")
            data = loyalty.statement(
                session,
                member_id=member_id,
                start=datetime.combine(first, time(), policy.zone),
                end=datetime.combine(last + timedelta(days=1), time(), policy.zone),
            )
            audit.record(
                session,
                actor,
                "loyalty.statement",
                member_id=data["member_id"],
                fields=["points", "vouchers"],
                reason=f"console statement {first}..{last}",
            )
        except MemberOpsError as err:
            session.rollback()
            return _error_page(request, err, actor, row.csrf_token)
        return render(
            request,
            "statement.html",
            actor=actor,
            csrf=row.csrf_token,
            s=data,
            first=first.isoformat(),
            last=last.isoformat(),
            member_link=f"/members/{quote(data['member_id'])}",
        )
