"""The console: server-rendered pages at `/`, beside the API at `/v1`.

Every page opens one transaction at the edge, calls the same service functions the API
uses, and renders a Jinja2 template. Scripts and styles come from `/static` only (the
package ships them; nothing from a CDN) under a strict Content-Security-Policy with no
inline script. A page that fails renders the error in the page's language; the API's
JSON error shape stays under `/v1`.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops import __version__
from memberops.actor import Actor
from memberops.catalog.models import Store
from memberops.db import read_transaction, transaction
from memberops.errors import (
    Conflict,
    ConsentRequired,
    Forbidden,
    LabelRejected,
    MemberOpsError,
    NotFound,
    ValidationError,
)
from memberops.identity.merges import unmerge
from memberops.labels import service as labels
from memberops.labels.rules import STAFF_CATEGORIES
from memberops.loyalty.service import active_policy
from memberops.members.endpoints import find_member_page
from memberops.members.models import Member
from memberops.privacy import audit
from memberops.runtime import Runtime
from memberops.segments import service as segments
from memberops.segments.fields import FUNCTIONS as SEGMENT_FUNCTIONS
from memberops.segments.fields import all_fields as segment_fields
from memberops.servicedesk import service as desk
from memberops.web import auth
from memberops.web import service as pages
from memberops.web.headers import CONSOLE_CSP, ConsoleHeaders
from memberops.web.i18n import LANGUAGES, pick_language, translate
from memberops.web.models import ConsoleSession

__all__ = ["CONSOLE_CSP", "install_console", "router"]

_HERE = Path(__file__).parent
SESSION_COOKIE = "mo_session"
PRESIGN_COOKIE = "mo_presign"
LANG_COOKIE = "mo_lang"
PAGE_SIZE = 50


_env = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(include_in_schema=False)


class SignInRequired(Exception):
    """No valid console session: go to the sign-in page."""


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _lang(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def _money(cents: int | None) -> str:
    return "" if cents is None else f"¥{cents / 100:,.2f}"


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def render(
    request: Request,
    template: str,
    *,
    actor: Actor | None = None,
    csrf: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page in the visitor's language."""
    lang = _lang(request)

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    body = _env.get_template(template).render(
        request=request,
        lang=lang,
        languages=LANGUAGES,
        t=t,
        actor=actor,
        csrf=csrf,
        money=_money,
        when=_when,
        version=__version__,
        path_qs=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    )
    return HTMLResponse(body, status_code=status_code)


def _signed_in(request: Request, session: Session) -> tuple[Actor, ConsoleSession]:
    found = auth.session_actor(session, request.cookies.get(SESSION_COOKIE, ""))
    if found is None:
        raise SignInRequired
    return found


def _check_csrf(row: ConsoleSession, presented: str | None) -> None:
    if not presented or not secrets.compare_digest(presented, row.csrf_token):
        raise Forbidden("the form has expired; reload the page and try again")


def _error_status(error: MemberOpsError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, ValidationError):
        return 422
    return 400


def _error_page(
    request: Request, error: MemberOpsError, actor: Actor | None, csrf: str | None
) -> HTMLResponse:
    return render(
        request,
        "error.html",
        actor=actor,
        csrf=csrf,
        status_code=_error_status(error),
        message=str(error),
    )


# ---------------------------------------------------------------------------- sign-in
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The front desk for those who serve guests, the member list for managers."""
    with transaction(_runtime(request).sessions) as session:
        actor, _row = _signed_in(request, session)
    if actor.role in pages.CARD_ROLES:
        return RedirectResponse("/desk", status_code=303)
    if actor.role in pages.DASHBOARD_ROLES:
        return RedirectResponse("/dashboards", status_code=303)
    return RedirectResponse("/signin", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, failed: int = 0) -> HTMLResponse:
    """The sign-in form (user name and password, or an API key)."""
    token = secrets.token_urlsafe(24)
    response = render(request, "signin.html", presign=token, failed=bool(failed))
    response.set_cookie(
        PRESIGN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=3600,
        path="/signin",
    )
    return response


@router.post("/signin")
def signin(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    method: Annotated[str, Form(max_length=10)] = "password",
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    api_key: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the credentials, then set the session cookie and go to the start page."""
    expected = request.cookies.get(PRESIGN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        return RedirectResponse("/signin?failed=1", status_code=303)
    with transaction(_runtime(request).sessions) as session:
        if method == "key":
            signed = auth.sign_in_with_key(session, api_key)
        else:
            signed = auth.sign_in_with_password(session, username, password)
        if signed is not None:
            audit.record(session, signed.actor, "console.signin", reason=f"signed in with {method}")
    if signed is None:
        return RedirectResponse("/signin?failed=1", status_code=303)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=auth.SESSION_HOURS * 3600,
        path="/",
    )
    response.delete_cookie(PRESIGN_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(request: Request, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    """End the session; the cookie stops working at once."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        auth.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
        audit.record(session, actor, "console.signout")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def set_language(request: Request, code: str, next: str = "/") -> Response:
    """Switch the console's language (kept in a cookie)."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            code,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=365 * 86400,
            path="/",
        )
    return response


# ---------------------------------------------------------------------------- front desk
def _desk_page(
    request: Request,
    session: Session,
    actor: Actor,
    row: ConsoleSession,
    *,
    query: str = "",
    member_id: str | None = None,
    refused: dict[str, Any] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    runtime = _runtime(request)
    matches: list[str] = []
    card = None
    if member_id is None and query:
        matches, card = pages.front_desk_search(session, runtime.keyring, query, actor=actor)
    elif member_id is not None:
        card = pages.front_desk_card(session, runtime.keyring, member_id, actor=actor)
    return render(
        request,
        "desk.html",
        actor=actor,
        csrf=row.csrf_token,
        query=query,
        searched=bool(query),
        matches=matches,
        card=card,
        categories=STAFF_CATEGORIES,
        refused=refused,
        notice=notice,
        status_code=status_code,
    )


@router.get("/desk", response_class=HTMLResponse)
def desk_page(
    request: Request, q: Annotated[str, Query(max_length=254)] = "", added: int = 0
) -> HTMLResponse:
    """Type or scan a phone, card or member QR; one match opens the card."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            return _desk_page(
                request,
                session,
                actor,
                row,
                query=q.strip(),
                notice="desk.need_added" if added else None,
            )
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)


@router.get("/desk/member/{member_id}", response_class=HTMLResponse)
def desk_member(request: Request, member_id: str, added: int = 0) -> HTMLResponse:
    """The card of one member (after choosing among several matches)."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            return _desk_page(
                request,
                session,
                actor,
                row,
                member_id=member_id,
                notice="desk.need_added" if added else None,
            )
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)


def _refusal(lang: str, error: LabelRejected | ConsentRequired) -> dict[str, Any]:
    categories = list(error.categories)
    return {
        "kind": "consent" if isinstance(error, ConsentRequired) else "rejected",
        "reasons": [
            {
                "category": c,
                "text": translate(lang, f"guard.{c}"),
                "other": translate("en" if lang == "zh" else "zh", f"guard.{c}"),
            }
            for c in categories
        ],
        "remainder": getattr(error, "remainder", None),
    }


@router.post("/desk/member/{member_id}/needs", response_class=HTMLResponse)
def add_need(
    request: Request,
    member_id: str,
    csrf: Annotated[str, Form(max_length=100)],
    text: Annotated[str, Form(max_length=labels.MAX_TEXT_CHARS)],
    category: Annotated[str, Form(max_length=32)] = "service_need",
) -> Response:
    """Record a dining need; the guard screens it again here whatever the browser said."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        csrf_token = row.csrf_token
        try:
            labels.write_staff_label(
                session,
                runtime.keyring,
                member_id=member_id,
                category=category,
                text=text,
                reason="recorded at the front desk",
                actor=actor,
            )
        except (LabelRejected, ConsentRequired) as error:
            session.rollback()
            refused = _refusal(_lang(request), error)
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, csrf_token)
        else:
            return RedirectResponse(f"/desk/member/{quote(member_id)}?added=1", status_code=303)
    # The refusal is audited in its own transaction (the request's was rolled back).
    with transaction(runtime.sessions) as session:
        audit.record(
            session,
            actor,
            "labels.write",
            member_id=member_id,
            fields=[category],
            reason=f"console: refused ({', '.join(r['category'] for r in refused['reasons'])})",
            outcome="refused",
        )
        actor, row = _signed_in(request, session)
        return _desk_page(
            request, session, actor, row, member_id=member_id, refused=refused, status_code=422
        )


async def _text_field(request: Request, field: str, *, max_bytes: int) -> str | JSONResponse:
    """The string `field` of a small JSON body sent while someone types, or the answer
    refusing the body (413 too large, 422 not JSON or not a string)."""
    body = await request.body()
    if len(body) > max_bytes:
        return JSONResponse({"error": "too_large"}, status_code=413)
    try:
        value = json.loads(body or b"{}").get(field, "")
    except (ValueError, AttributeError):
        return JSONResponse({"error": "invalid_json"}, status_code=422)
    if not isinstance(value, str):
        return JSONResponse({"error": f"invalid_{field}"}, status_code=422)
    return value


@router.post("/console/screen")
async def screen_endpoint(request: Request) -> JSONResponse:
    """Live screening while staff type a note: the guard's verdict, reasons in both languages."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
    _check_csrf(row, request.headers.get("x-csrf-token"))
    if actor.role not in pages.CARD_ROLES:
        raise Forbidden("screening notes needs a front-desk role")
    text = await _text_field(request, "text", max_bytes=4096)
    if isinstance(text, JSONResponse):
        return text
    result = pages.screen_note(text[: labels.MAX_TEXT_CHARS])
    result["messages"] = [
        {"category": c, "zh": translate("zh", f"guard.{c}"), "en": translate("en", f"guard.{c}")}
        for c in result["categories"]
    ]
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------------------- members
@router.get("/members", response_class=HTMLResponse)
def members_page(
    request: Request,
    q: Annotated[str, Query(max_length=254)] = "",
    tier: Annotated[str, Query(max_length=24)] = "",
    store: Annotated[str, Query(max_length=32)] = "",
    label: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The member list for admins (every store) and managers (their own store)."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            if actor.role not in ("admin", "manager"):
                raise Forbidden("the member list needs one of the roles: admin, manager")
            if actor.role == "manager" and actor.store_code:
                store = actor.store_code
            store_id = None
            if store:
                store_id = session.scalar(select(Store.id).where(Store.code == store))
                if store_id is None:
                    raise NotFound(f"store {store} not found")
            members, total = find_member_page(
                session,
                runtime.keyring,
                query=q.strip() or None,
                tier=tier or None,
                store_id=store_id,
                label_code=label or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
            audit.record(
                session,
                actor,
                "member.list",
                fields=["id", "tier", "home_store"],
                reason=f"console member list, {len(members)} of {total}",
            )
            stores = session.execute(select(Store.id, Store.code).order_by(Store.code)).all()
            codes = {sid: code for sid, code in stores}
            tiers = [t.code for t in active_policy(session)[1].tiers]
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
        filters = {
            k: v for k, v in (("q", q), ("tier", tier), ("store", store), ("label", label)) if v
        }
        pages_total = max(1, -(-total // PAGE_SIZE))
        return render(
            request,
            "members.html",
            actor=actor,
            csrf=row.csrf_token,
            members=members,
            total=total,
            page=page,
            pages_total=pages_total,
            filters=filters,
            store_codes=codes,
            stores=[code for _sid, code in stores],
            tiers=tiers,
            page_link=lambda n: "/members?" + urlencode({**filters, "page": n}),
        )


@router.get("/members/{member_id}", response_class=HTMLResponse)
def member_page(request: Request, member_id: str) -> HTMLResponse:
    """Member 360: profile groups, orders, labels with provenance, consents, and for
    admins the audit trail of who read the profile and the merges with an undo."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        csrf_token = row.csrf_token
        if pages.in_manager_scope(session, member_id, actor=actor):
            try:
                view = pages.member_360(session, runtime.keyring, member_id, actor=actor)
            except MemberOpsError as error:
                session.rollback()
                return _error_page(request, error, actor, row.csrf_token)
            return render(request, "member.html", actor=actor, csrf=row.csrf_token, v=view)
        session.rollback()
    # A manager asking for a member outside their store: audited, answered like a missing
    # member (the API's answer to an id outside a key's reach), in its own transaction.
    with transaction(runtime.sessions) as session:
        audit.record(
            session,
            actor,
            "access.denied",
            member_id=member_id if session.get(Member, member_id) else None,
            reason=f"member 360 outside store {actor.store_code}",
            outcome="denied",
        )
    return _error_page(request, NotFound(f"member {member_id} not found"), actor, csrf_token)


@router.post("/members/{member_id}/merges/{merge_id}/undo")
def undo_merge(
    request: Request, member_id: str, merge_id: str, csrf: Annotated[str, Form(max_length=100)]
) -> Response:
    """Undo a merge (admins): both members and their history come back."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            if actor.role != "admin":
                raise Forbidden("undoing a merge needs the admin role")
            unmerge(session, runtime.keyring, merge_id=merge_id, actor=actor)
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
    return RedirectResponse(f"/members/{quote(member_id)}", status_code=303)


# Dashboards: memberops.web.dashboards (one registry of charts).


# ---------------------------------------------------------------------------- service desk
@router.get("/complaints", response_class=HTMLResponse)
def complaints_page(
    request: Request,
    status: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    member: Annotated[str, Query(max_length=26)] = "",
) -> HTMLResponse:
    """Complaints of the actor's store(s), newest first, and the intake form."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            if actor.role not in ("admin", "manager", "staff"):
                raise Forbidden("the service desk needs one of the roles: admin, manager, staff")
            found, total = desk.list_complaints(
                session,
                actor=actor,
                status=status or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
            views = [desk.complaint_view(session, runtime.keyring, c) for c in found]
            stores = (
                [actor.store_code]
                if actor.store_code
                else list(session.scalars(select(Store.code).order_by(Store.code)))
            )
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
        return render(
            request,
            "complaints.html",
            actor=actor,
            csrf=row.csrf_token,
            complaints=views,
            total=total,
            status=status,
            stores=stores,
            member=member,
            categories=desk.COMPLAINT_CATEGORIES,
            severities=tuple(desk.SLA_MINUTES),
        )


@router.post("/complaints")
def complaint_intake(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    store_code: Annotated[str, Form(max_length=32)],
    category: Annotated[str, Form(max_length=32)],
    description: Annotated[str, Form(max_length=2000)],
    severity: Annotated[str, Form(max_length=12)] = "normal",
    member_id: Annotated[str, Form(max_length=26)] = "",
) -> Response:
    """Take a complaint at the desk."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            complaint = desk.open_complaint(
                session,
                runtime.keyring,
                store_code=store_code,
                category=category,
                description=description,
                member_id=member_id or None,
                severity=severity,
                channel="staff",
                owner=actor.staff_id,
                actor=actor,
            )
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
        target = f"/complaints/{complaint.id}"
    return RedirectResponse(target, status_code=303)


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_page(request: Request, complaint_id: str) -> HTMLResponse:
    """One complaint: its SLA clock, owner, status and resolution."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            complaint = desk.get_complaint_or_raise(session, complaint_id, actor=actor)
            view = desk.complaint_view(session, runtime.keyring, complaint)
            audit.record(
                session,
                actor,
                "complaint.read",
                member_id=complaint.member_id,
                fields=["complaint"],
                reason=f"complaint {complaint.id}",
            )
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
        return render(request, "complaint.html", actor=actor, csrf=row.csrf_token, c=view)


@router.post("/complaints/{complaint_id}/status")
def complaint_status(
    request: Request,
    complaint_id: str,
    csrf: Annotated[str, Form(max_length=100)],
    status: Annotated[str, Form(max_length=16)] = "",
    take: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Take ownership or move the complaint along."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            desk.update_complaint(
                session,
                complaint_id,
                actor=actor,
                status=status or None,
                owner=(actor.staff_id or actor.id) if take else None,
            )
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
    return RedirectResponse(f"/complaints/{quote(complaint_id)}", status_code=303)


@router.post("/complaints/{complaint_id}/resolve")
def complaint_resolve(
    request: Request,
    complaint_id: str,
    csrf: Annotated[str, Form(max_length=100)],
    resolution: Annotated[str, Form(max_length=2000)],
    callback: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Resolve with what was done; a member's complaint gets its call-back."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            desk.resolve_complaint(
                session,
                runtime.keyring,
                complaint_id,
                resolution=resolution,
                callback=bool(callback),
                actor=actor,
            )
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
    return RedirectResponse(f"/complaints/{quote(complaint_id)}", status_code=303)


@router.get("/callbacks", response_class=HTMLResponse)
def callbacks_page(request: Request) -> HTMLResponse:
    """Call-backs still to make, earliest due first."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        try:
            if actor.role not in ("admin", "manager", "staff"):
                raise Forbidden("the service desk needs one of the roles: admin, manager, staff")
            rows = desk.due_callbacks(session, actor=actor, limit=200)
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
        return render(request, "callbacks.html", actor=actor, csrf=row.csrf_token, callbacks=rows)


@router.post("/callbacks/{callback_id}/done")
def callback_done(
    request: Request,
    callback_id: str,
    csrf: Annotated[str, Form(max_length=100)],
    outcome: Annotated[str, Form(max_length=200)],
) -> Response:
    """Record the outcome of a call."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
        try:
            desk.complete_callback(session, callback_id, outcome=outcome, actor=actor)
        except MemberOpsError as error:
            session.rollback()
            return _error_page(request, error, actor, row.csrf_token)
    return RedirectResponse("/callbacks", status_code=303)


# ---------------------------------------------------------------------------- wiring
def install_console(app: FastAPI) -> None:
    """Mount the console, its static files and its security headers on the API's app."""
    # Page modules import this one's helpers, so they are loaded here, once it exists.
    from memberops.web import dashboards, loyalty_pages

    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.include_router(router)
    for pages_router in (loyalty_pages.router, dashboards.router):
        app.include_router(pages_router)

    @app.exception_handler(SignInRequired)
    async def _to_signin(request: Request, _error: SignInRequired) -> Response:
        if request.url.path.startswith("/console/"):
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        return RedirectResponse("/signin", status_code=303)

    app.add_middleware(ConsoleHeaders)


# ---------------------------------------------------------------------------- segments
SEGMENT_ROLES = ("admin", "manager", "marketer", "analyst")
SEGMENT_WRITERS = ("admin", "marketer")


def _segment_scope(actor: Actor) -> str | None:
    """The store a manager's counts are narrowed to (None: the whole chain)."""
    if actor.role not in SEGMENT_ROLES:
        raise Forbidden("segments need one of the roles: " + ", ".join(SEGMENT_ROLES))
    if actor.role != "manager":
        return None
    if not actor.store_code:
        raise Forbidden("a manager account needs a store to preview segments")
    return actor.store_code


def _segments_page(
    request: Request,
    actor: Actor,
    csrf: str,
    *,
    expression: str = "",
    count: int | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    store = _segment_scope(actor)
    rows: list[dict[str, Any]] = []
    if store is None:
        with read_transaction(_runtime(request).read_sessions) as session:
            rows = [
                {
                    "name": s.name,
                    "expression": s.expression,
                    "version": s.version,
                    "size": segments.segment_size(session, s.id),
                    "materialised_at": s.materialised_at,
                }
                for s in segments.list_segments(session)
            ]
    fields = [
        {"name": f.name, "kind": f.kind, "description": f.description}
        for f in segment_fields().values()
    ] + [
        {"name": f"{n}(…)", "kind": "bool", "description": spec.description}
        for n, spec in SEGMENT_FUNCTIONS.items()
    ]
    return render(
        request,
        "segments.html",
        actor=actor,
        csrf=csrf,
        expression=expression,
        count=count,
        error=error,
        notice=notice,
        segments=rows,
        fields=fields,
        can_save=actor.role in SEGMENT_WRITERS,
        scope_store=store,
        status_code=status_code,
    )


@router.get("/segments", response_class=HTMLResponse)
def segments_page(request: Request, saved: int = 0) -> HTMLResponse:
    """The segment builder: type an expression, see the count; saved segments below."""
    with transaction(_runtime(request).sessions) as session:
        actor, row = _signed_in(request, session)
    try:
        return _segments_page(
            request, actor, row.csrf_token, notice="seg.saved_notice" if saved else None
        )
    except MemberOpsError as error:
        return _error_page(request, error, actor, row.csrf_token)


@router.post("/segments", response_class=HTMLResponse)
def segments_submit(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    expression: Annotated[str, Form(max_length=4000)],
    action: Annotated[str, Form(max_length=10)] = "preview",
    name: Annotated[str, Form(max_length=80)] = "",
    description: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Count without script (`action=preview`), or save the segment (admin, marketer)."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
        _check_csrf(row, csrf)
    try:
        store = _segment_scope(actor)
        if action == "save":
            if actor.role not in SEGMENT_WRITERS:
                raise Forbidden("saving segments needs one of the roles: admin, marketer")
            with transaction(runtime.sessions) as session:
                segments.create_segment(
                    session,
                    name=name,
                    expression=expression,
                    description=description,
                    actor=actor,
                )
            return RedirectResponse("/segments?saved=1", status_code=303)
        with read_transaction(runtime.read_sessions) as session:
            preview = segments.preview_segment(session, expression, home_store_code=store, sample=0)
        return _segments_page(
            request, actor, row.csrf_token, expression=expression, count=preview.count
        )
    except Forbidden as error:
        return _error_page(request, error, actor, row.csrf_token)
    except MemberOpsError as error:
        return _segments_page(
            request,
            actor,
            row.csrf_token,
            expression=expression,
            error=str(error),
            status_code=_error_status(error),
        )


@router.post("/console/segments/preview")
async def segments_preview(request: Request) -> JSONResponse:
    """The live count while someone types an expression (nothing is stored)."""
    runtime = _runtime(request)
    with transaction(runtime.sessions) as session:
        actor, row = _signed_in(request, session)
    _check_csrf(row, request.headers.get("x-csrf-token"))
    store = _segment_scope(actor)
    expression = await _text_field(request, "expression", max_bytes=8192)
    if isinstance(expression, JSONResponse):
        return expression
    try:
        with read_transaction(runtime.read_sessions) as session:
            preview = segments.preview_segment(session, expression, home_store_code=store, sample=0)
    except MemberOpsError as error:
        return JSONResponse(error.to_dict(), status_code=_error_status(error))
    return JSONResponse(
        {"count": preview.count, "expression": preview.expression, "scope": store or "chain"},
        headers={"Cache-Control": "no-store"},
    )
