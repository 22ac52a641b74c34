"""`memberops servicedesk ...`: opening hours, complaints, escalation, call-backs, NPS."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from memberops.cli.common import cli_actor, console, emit_json, handle_errors, open_cli_runtime
from memberops.db import transaction
from memberops.errors import ValidationError
from memberops.servicedesk import service

__all__ = ["app"]

app = typer.Typer(
    help="Service desk: complaints with SLA, call-backs, surveys, opening hours.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _aware(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValidationError("option", field, "must be an ISO 8601 time") from error
    if value.tzinfo is None:
        raise ValidationError("option", field, "must carry a UTC offset (+08:00)")
    return value


@app.command("hours")
@handle_errors
def hours(
    store: Annotated[str, typer.Argument(help="Store code.")],
    windows: Annotated[
        list[str] | None,
        typer.Argument(help='Per weekday: "mon=10:00-22:00" (repeat; "sat=10:00-02:00").'),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or replace a store's opening hours (local time; days left out are closed)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        if windows:
            week: dict[int, list[str]] = {}
            for item in windows:
                day, _, window = item.partition("=")
                if day.lower() not in _DAYS or not window:
                    raise ValidationError("opening hours", "window", "write mon=HH:MM-HH:MM")
                week.setdefault(_DAYS.index(day.lower()), []).append(window)
            result = service.set_opening_hours(session, store, week, actor=cli_actor())
        else:
            found = service.store_by_code_or_raise(session, store)
            result = service.opening_hours_of(session, found.id)
        shown = {
            _DAYS[day]: [f"{w.opens:%H:%M}-{w.closes:%H:%M}" for w in ws]
            for day, ws in sorted(result.items())
        }
    if as_json:
        emit_json(shown)
        return
    for day in _DAYS:
        console.print(f"{day}  {', '.join(shown.get(day, [])) or 'closed'}")


@app.command("complaints")
@handle_errors
def complaints(
    store: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    status: Annotated[str | None, typer.Option(help="open, in_progress, resolved, closed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Complaints newest first, with their SLA state."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        page, total = service.list_complaints(
            session, actor=cli_actor(), store_code=store, status=status, limit=limit
        )
        rows = [service.complaint_view(session, runtime.keyring, c) for c in page]
    if as_json:
        emit_json({"total": total, "complaints": rows})
        return
    table = Table(title=f"complaints ({len(rows)} of {total})")
    for column in ("id", "store", "category", "status", "sla", "minutes left", "level", "owner"):
        table.add_column(column, no_wrap=column == "id")
    for r in rows:
        table.add_row(
            r["id"],
            r["store_code"],
            r["category"],
            r["status"],
            r["sla_state"],
            str(r["minutes_left"]),
            str(r["escalation_level"]),
            r["owner"] or "",
        )
    console.print(table)


@app.command("complain")
@handle_errors
def complain(
    store: Annotated[str, typer.Option(help="Store code.")],
    category: Annotated[str, typer.Option(help=", ".join(service.COMPLAINT_CATEGORIES))],
    description: Annotated[str, typer.Option(help="What the guest said.")],
    member: Annotated[str | None, typer.Option(help="Member id, when known.")] = None,
    severity: Annotated[str, typer.Option(help="high, normal or low.")] = "normal",
    as_json: JsonOpt = False,
) -> None:
    """Take a complaint (its SLA clock starts now)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        complaint = service.open_complaint(
            session,
            runtime.keyring,
            store_code=store,
            category=category,
            description=description,
            member_id=member,
            severity=severity,
            channel="staff",
            actor=cli_actor(),
        )
        result = {"id": complaint.id, "due_at": complaint.due_at.isoformat()}
    if as_json:
        emit_json(result)
    else:
        console.print(f"complaint {result['id']} opened, due {result['due_at']}")


@app.command("resolve")
@handle_errors
def resolve(
    complaint_id: Annotated[str, typer.Argument(help="The complaint.")],
    resolution: Annotated[str, typer.Option(help="What was done.")],
    no_callback: Annotated[bool, typer.Option("--no-callback")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Resolve a complaint; schedules the member's call-back."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        complaint, callback = service.resolve_complaint(
            session,
            runtime.keyring,
            complaint_id,
            resolution=resolution,
            callback=not no_callback,
            actor=cli_actor(),
        )
        result = {
            "id": complaint.id,
            "status": complaint.status,
            "callback_id": callback.id if callback else None,
            "callback_due_at": callback.due_at.isoformat() if callback else None,
        }
    if as_json:
        emit_json(result)
    else:
        console.print(
            f"complaint {complaint_id} resolved"
            + (f"; call-back due {result['callback_due_at']}" if callback else "")
        )


@app.command("escalate")
@handle_errors
def escalate(as_json: JsonOpt = False) -> None:
    """Raise the escalation level of every lapsed complaint (run it from a timer)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        raised = service.escalate_lapsed(session, actor=cli_actor())
    if as_json:
        emit_json({"escalated": raised})
    else:
        console.print(f"{raised} complaint(s) escalated")


@app.command("callbacks")
@handle_errors
def callbacks(
    store: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    schedule_since: Annotated[
        str | None,
        typer.Option(help="First schedule call-backs for first visits since this time."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=5000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """The due list per store (optionally scheduling first-visit call-backs first)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        scheduled = 0
        if schedule_since:
            scheduled = service.schedule_first_visit_callbacks(
                session, since=_aware(schedule_since, "schedule_since"), actor=cli_actor()
            )
        rows = [
            {
                "id": cb.id,
                "store": code,
                "member_id": cb.member_id,
                "reason": cb.reason,
                "due_at": cb.due_at.isoformat(),
            }
            for cb, code in service.due_callbacks(
                session, actor=cli_actor(), store_code=store, limit=limit
            )
        ]
    if as_json:
        emit_json({"scheduled": scheduled, "due": rows})
        return
    if schedule_since:
        console.print(f"{scheduled} first-visit call-back(s) scheduled")
    table = Table(title="call-backs due")
    for column in ("id", "store", "member_id", "reason", "due_at"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        table.add_row(r["id"], r["store"], r["member_id"], r["reason"], r["due_at"])
    console.print(table)


@app.command("nps")
@handle_errors
def nps(as_json: JsonOpt = False) -> None:
    """Net Promoter Score per store over every answer."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        rows = service.nps_by_store(session)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        console.print(f"{r['store_code']}  NPS {r['nps']}  ({r['responses']} answers)")
