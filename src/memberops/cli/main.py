"""The `memberops` command line.

Each command opens the runtime at the edge, runs one unit of work and commits once.
Every command that reports has `--json`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from memberops.cli.common import (
    cli_actor,
    console,
    emit_json,
    err_console,
    handle_errors,
    open_cli_runtime,
)
from memberops.db import transaction
from memberops.errors import NotFound, ValidationError
from memberops.labels.cli import app as labels_app
from memberops.labels.pipeline import refresh_service_needs
from memberops.loyalty.cli import ledger_app, points_app, tiers_app

app = typer.Typer(
    help="memberops: one profile per member across every channel, privacy from the first row.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import orders, refunds, events and consents.", no_args_is_help=True)
members_app = typer.Typer(help="Look up, export and erase members.", no_args_is_help=True)
identity_app = typer.Typer(
    help="Identity resolution: report, merges, reviews.", no_args_is_help=True
)
keys_app = typer.Typer(help="Encryption and blind-index keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
consent_app = typer.Typer(help="Consent per purpose.", no_args_is_help=True)
apikeys_app = typer.Typer(help="API keys for POS, apps, staff and members.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(members_app, name="members")
app.add_typer(identity_app, name="identity")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(consent_app, name="consent")
app.add_typer(apikeys_app, name="apikeys")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _print_rows(title: str, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    """A table of `rows`, one column per key of `columns` (key -> heading)."""
    table = Table(*columns.values(), title=title)
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key in columns))
    console.print(table)


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


# --------------------------------------------------------------------------- demo / serve
@app.command()
@handle_errors
def demo(
    members: Annotated[
        int, typer.Option(min=1000, max=1_000_000, help="Members to simulate.")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same chain).")] = 7,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months of history.")] = 24,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load only; do not serve.")] = False,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    as_json: JsonOpt = False,
) -> None:
    """Generate the demo chain, load it through the real ingestion path, then serve."""
    from memberops.demo.load import load_demo, reset_demo_database

    runtime = open_cli_runtime()
    reset_demo_database(runtime)
    with _progress() as progress:
        task = progress.add_task("simulating and loading members", total=members)
        summary = load_demo(
            runtime,
            members=members,
            seed=seed,
            months=months,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
        progress.update(task, completed=members)
        labels_task = progress.add_task("deriving service needs from orders", total=None)
        labelled = refresh_service_needs(
            runtime,
            on_progress=lambda done, total: progress.update(
                labels_task, completed=done, total=total
            ),
        )
    if as_json:
        emit_json({**summary.__dict__, "service_need_labels": labelled["active_labels"]})
    else:
        console.print(
            f"Loaded {summary.orders:,} orders from {summary.records:,} records in "
            f"{summary.seconds:.1f} s: {summary.members_created:,} members created, "
            f"{summary.merges:,} merges, {summary.reviews:,} review cases; "
            f"{labelled['active_labels']:,} service-need labels derived from order modifiers."
        )
    if not no_serve:
        _serve(runtime, host, port, seed_keys=True)


@app.command()
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Serve the API on the given address (127.0.0.1 by default)."""
    _serve(open_cli_runtime(), host, port, seed_keys=False)


def _serve(runtime: Any, host: str, port: int, *, seed_keys: bool) -> None:
    import uvicorn

    from memberops.api.app import create_app
    from memberops.api.auth import create_api_key

    if seed_keys:
        with transaction(runtime.sessions) as session:
            _key, secret = create_api_key(session, name="demo admin", role="admin")
        console.print(f"Demo admin API key (shown once): [bold]{secret}[/bold]")
    console.print(
        f"memberops is serving on [bold]http://{host}:{port}/v1[/bold]"
        f" (health: http://{host}:{port}/v1/health)"
    )
    uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")


# --------------------------------------------------------------------------- import
@import_app.command("orders")
@handle_errors
def import_orders(
    file: Annotated[Path, typer.Argument(help="A .jsonl, .csv or .parquet file.")],
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl, csv or parquet.")] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Load valid records; reject the others.")
    ] = False,
    reject_file: Annotated[
        Path | None, typer.Option(help="Where rejected records go (with --skip-invalid).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a file whole, or not at all (unless --skip-invalid). Re-importing is a no-op."""
    from memberops.orders.readers import detect_format, read_records
    from memberops.orders.service import ingest

    fmt = fmt or detect_format(file)
    runtime = open_cli_runtime()
    reject_path = reject_file or file.with_name(file.name + ".rejects.jsonl")
    rejects: list[TextIO] = []  # opened on the first rejected record, streamed to disk

    def on_reject(locator: str, data: dict[str, Any] | None, error: ValidationError) -> None:
        if not rejects:
            rejects.append(_open_private(reject_path))
        row = {"record": locator, "field": error.field, "reason": error.reason, "data": data}
        rejects[0].write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    size = file.stat().st_size if file.exists() else 0
    with _progress() as progress, transaction(runtime.sessions) as session:
        task = progress.add_task(f"importing {file.name}", total=None)
        report = ingest(
            session,
            runtime.keyring,
            read_records(file, fmt),
            actor=cli_actor(),
            source_name=str(file.name),
            fmt=fmt,
            file_sha256=_sha256(file) if size < 2**31 else None,
            skip_invalid=skip_invalid,
            reject=on_reject,
            on_progress=lambda n: progress.advance(task, n),
        )
    for handle in rejects:
        handle.close()
    result = report.to_dict()
    if rejects:
        result["reject_file"] = str(reject_path)
    if as_json:
        emit_json(result)
    else:
        console.print(
            f"{file.name}: {report.orders_created:,} orders, {report.adjustments_created:,} "
            f"refunds/voids, {report.events_created:,} events, {report.consents_recorded:,} "
            f"consents stored; {report.duplicates:,} already present; {report.rejected:,} rejected."
        )
        if rejects:
            console.print(f"Rejected records and reasons: {reject_path}")


def _open_private(path: Path) -> TextIO:
    """A file only its owner can read: rejects and exports hold personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- members
@members_app.command("show")
@handle_errors
def members_show(
    query: Annotated[str, typer.Argument(help="Phone, card number, email or member id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a member's profile (the read is audited)."""
    from memberops.members.service import find_member_ids, read_profile

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        ids = find_member_ids(session, runtime.keyring, query)
        if not ids:
            raise NotFound("no member matches")
        profiles = [read_profile(session, runtime.keyring, m, actor=cli_actor()) for m in ids]
    if as_json:
        emit_json(profiles if len(profiles) > 1 else profiles[0])
        return
    for profile in profiles:
        table = Table(title=f"member {profile['id']}", show_header=False)
        for group in ("basic", "membership", "transaction", "personalised", "consents"):
            table.add_row(group, json.dumps(profile[group], ensure_ascii=False, default=str))
        for ident in profile["identifiers"]:
            table.add_row(
                ident["kind"], f"{ident['value']}{' (verified)' if ident['verified'] else ''}"
            )
        console.print(table)


@members_app.command("export")
@handle_errors
def members_export(
    member_id: Annotated[str, typer.Argument(help="Member id.")],
    output: Annotated[Path | None, typer.Option(help="Write to this file (0600).")] = None,
) -> None:
    """Everything held about a member, as JSON (PIPL Art. 45, GDPR Art. 15/20)."""
    from memberops.privacy.rights import export_member

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        data = export_member(session, runtime.keyring, member_id, actor=cli_actor())
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if output is None:
        print(text)
    else:
        with _open_private(output) as handle:
            handle.write(text + "\n")
        console.print(f"Exported member {member_id} to {output}")


@members_app.command("erase")
@handle_errors
def members_erase(
    member_id: Annotated[str, typer.Argument(help="Member id.")],
    reason: Annotated[str, typer.Option(help="Why (e.g. the request reference).")],
    as_json: JsonOpt = False,
) -> None:
    """Erase a member's personal data; orders stay under a pseudonym. Idempotent."""
    from memberops.privacy.rights import erase_member

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        erased = erase_member(session, member_id, actor=cli_actor(), reason=reason)
    if as_json:
        emit_json({"member_id": member_id, "erased": erased, "already_erased": not erased})
    else:
        console.print(f"member {member_id}: {'erased' if erased else 'was already erased'}")


# --------------------------------------------------------------------------- identity
@identity_app.command("report")
@handle_errors
def identity_report_cmd(as_json: JsonOpt = False) -> None:
    """Members, merges, pending conflicts; precision/recall on demo data."""
    from memberops.demo.load import truth_path
    from memberops.identity.report import identity_report

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        report = identity_report(session, truth_file=truth_path(runtime.settings.home))
    if as_json:
        emit_json(report)
        return
    table = Table(title="identity resolution", show_header=False)
    for key, value in report.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else f"{value:,}")
    console.print(table)


@identity_app.command("merges")
@handle_errors
def identity_merges(
    member: Annotated[str | None, typer.Option(help="Only merges involving this member.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Recent merges, newest first."""
    from sqlalchemy import or_, select

    from memberops.identity.models import MergeRecord

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        stmt = select(MergeRecord).order_by(MergeRecord.created_at.desc()).limit(limit)
        if member:
            stmt = stmt.where(
                or_(MergeRecord.survivor_id == member, MergeRecord.absorbed_id == member)
            )
        rows = [
            {
                "id": m.id,
                "survivor": m.survivor_id,
                "absorbed": m.absorbed_id,
                "reason": m.reason,
                "status": m.status,
                "created_at": m.created_at.isoformat(),
                "moved": {k: len(v) for k, v in m.moved.items()},
            }
            for m in session.scalars(stmt)
        ]
    if as_json:
        emit_json(rows)
        return
    _print_rows(
        "merges",
        rows,
        {
            "id": "merge",
            "survivor": "survivor",
            "absorbed": "absorbed",
            "reason": "reason",
            "status": "status",
            "moved": "moved rows",
        },
    )


@identity_app.command("unmerge")
@handle_errors
def identity_unmerge(
    merge_id: Annotated[str, typer.Argument(help="The merge to undo.")],
    as_json: JsonOpt = False,
) -> None:
    """Undo a merge: both members and their history come back."""
    from memberops.identity.service import unmerge

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        record = unmerge(session, runtime.keyring, merge_id=merge_id, actor=cli_actor())
        result = {
            "merge": record.id,
            "survivor": record.survivor_id,
            "restored": record.absorbed_id,
            "status": record.status,
        }
    if as_json:
        emit_json(result)
    else:
        console.print(f"merge {merge_id} undone: member {result['restored']} restored")


@identity_app.command("merge")
@handle_errors
def identity_merge(
    member_ids: Annotated[list[str], typer.Argument(help="Two or more member ids: one person.")],
    reason: Annotated[str, typer.Option(help="Why they are one person.")],
    as_json: JsonOpt = False,
) -> None:
    """Merge members a reviewer decided are one person (undo with `identity unmerge`)."""
    from memberops.identity.service import merge_by_decision

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        records = merge_by_decision(
            session, runtime.keyring, member_ids=member_ids, actor=cli_actor(), reason=reason
        )
        result = [
            {"merge": r.id, "survivor": r.survivor_id, "absorbed": r.absorbed_id} for r in records
        ]
    if as_json:
        emit_json(result)
    else:
        for r in result:
            console.print(f"merge {r['merge']}: {r['absorbed']} into {r['survivor']}")


@identity_app.command("resolve")
@handle_errors
def identity_resolve(
    case_id: Annotated[str, typer.Argument(help="The review case.")],
    decision: Annotated[str, typer.Option(help="merge or keep_apart.")],
    note: Annotated[str, typer.Option(help="What the reviewer found.")],
    as_json: JsonOpt = False,
) -> None:
    """Close a review case by merging its members or keeping them apart."""
    from memberops.identity.service import resolve_review

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        review = resolve_review(
            session,
            runtime.keyring,
            review_id=case_id,
            decision=decision,
            actor=cli_actor(),
            note=note,
        )
        result = {"case": review.id, "status": review.status, "resolution": review.resolution}
    if as_json:
        emit_json(result)
    else:
        console.print(f"case {result['case']}: {result['resolution']}")


@identity_app.command("reviews")
@handle_errors
def identity_reviews(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Open review cases: shared or contradictory identifiers the resolver did not decide."""
    from sqlalchemy import select

    from memberops.identity.models import IdentityReview

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        rows = [
            {
                "id": r.id,
                "kind": r.kind,
                "members": r.member_ids,
                "detail": r.detail,
                "occurrences": r.occurrences,
                "last_seen_at": r.last_seen_at.isoformat(),
            }
            for r in session.scalars(
                select(IdentityReview)
                .where(IdentityReview.status == "open")
                .order_by(IdentityReview.last_seen_at.desc())
                .limit(limit)
            )
        ]
    if as_json:
        emit_json(rows)
        return
    _print_rows(
        "open review cases",
        rows,
        {
            "id": "case",
            "kind": "kind",
            "members": "members",
            "detail": "detail",
            "occurrences": "seen",
        },
    )


# --------------------------------------------------------------------------- keys
@keys_app.command("rotate")
@handle_errors
def keys_rotate(
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted rotation; no new keys.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000)] = 500,
    as_json: JsonOpt = False,
) -> None:
    """Re-encrypt and re-index everything under fresh keys, in resumable batches."""
    from memberops.privacy.crypto import save_keyring
    from memberops.privacy.keys import add_new_keys, rotate

    runtime = open_cli_runtime()
    keyring = runtime.keyring
    if not resume:
        if runtime.settings.keys_json:
            raise ValidationError(
                "keys rotate",
                "MEMBEROPS_KEYS",
                "keys come from the environment: add the new keys there, make them active, "
                "then run `memberops keys rotate --resume`",
            )
        keyring = add_new_keys(keyring)
        save_keyring(keyring, runtime.settings.key_file)
    with _progress() as progress:
        task = progress.add_task("re-encrypting", total=None)
        result = rotate(
            runtime.sessions,
            keyring,
            actor=cli_actor(),
            batch_size=batch_size,
            on_progress=lambda p: progress.update(task, completed=p.done, total=p.total),
        )
    data = {
        "reencrypted": result.done,
        "active_encryption_key": keyring.active_encryption_id,
        "active_index_key": keyring.active_index_id,
    }
    if as_json:
        emit_json(data)
    else:
        console.print(
            f"{result.done:,} values now under keys {keyring.active_encryption_id}/"
            f"{keyring.active_index_id}"
        )


# --------------------------------------------------------------------------- audit
@audit_app.command("verify")
@handle_errors
def audit_verify(as_json: JsonOpt = False) -> None:
    """Walk the hash chain; exit 1 if an entry was changed, deleted or reordered."""
    from memberops.privacy.audit import verify_chain

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        result = verify_chain(session)
    if as_json:
        emit_json(result.to_dict())
    elif result.ok:
        console.print(f"audit log intact: {result.checked:,} entries verified")
    else:
        for problem in result.problems:
            err_console.print(f"[red]tampered:[/red] {problem}")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("show")
@handle_errors
def audit_show(
    member: Annotated[str | None, typer.Option(help="Entries about this member.")] = None,
    actor: Annotated[str | None, typer.Option(help="Entries by this actor id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Who did what to whom, newest first."""
    from memberops.privacy.audit import list_entries

    if not member and not actor:
        raise ValidationError("audit show", "--member/--actor", "give one of them")
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        rows = [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": f"{e.actor_kind}:{e.actor_id}",
                "role": e.role,
                "store": e.store_code,
                "action": e.action,
                "member": e.member_id,
                "fields": e.fields,
                "reason": e.reason,
                "outcome": e.outcome,
            }
            for e in list_entries(session, member_id=member, actor_id=actor, limit=limit)
        ]
    if as_json:
        emit_json(rows)
        return
    _print_rows(
        "audit log",
        rows,
        {
            "seq": "seq",
            "at": "at",
            "actor": "actor",
            "action": "action",
            "member": "member",
            "outcome": "outcome",
            "reason": "reason",
        },
    )


# --------------------------------------------------------------------------- consent
def _consent(
    member_id: str, purpose: str, granted: bool, channel: str, notice: str, as_json: bool
) -> None:
    from memberops.members.service import get_member_or_raise
    from memberops.privacy.consent import current_consents, record_consent

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        member = get_member_or_raise(session, member_id)
        record_consent(
            session,
            member_id=member.id,
            purpose=purpose,
            granted=granted,
            channel=channel,
            source="cli",
            notice_version=notice,
            actor=cli_actor(),
        )
        state = current_consents(session, member.id)
    if as_json:
        emit_json(state)
    else:
        console.print(state)


@consent_app.command("grant")
@handle_errors
def consent_grant(
    member_id: str,
    purpose: str,
    channel: Annotated[str, typer.Option()] = "front_desk",
    notice: Annotated[str, typer.Option(help="Privacy notice version shown.")] = "current",
    as_json: JsonOpt = False,
) -> None:
    """Record that the member consents to a purpose."""
    _consent(member_id, purpose, True, channel, notice, as_json)


@consent_app.command("withdraw")
@handle_errors
def consent_withdraw(
    member_id: str,
    purpose: str,
    channel: Annotated[str, typer.Option()] = "front_desk",
    notice: Annotated[str, typer.Option(help="Privacy notice version shown.")] = "current",
    as_json: JsonOpt = False,
) -> None:
    """Record that the member withdraws consent for a purpose (as easy as giving it)."""
    _consent(member_id, purpose, False, channel, notice, as_json)


# --------------------------------------------------------------------------- api keys
@apikeys_app.command("create")
@handle_errors
def apikeys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    role: Annotated[str, typer.Option(help="admin, pos, staff, marketer, analyst or member.")],
    store: Annotated[str | None, typer.Option(help="Bind to one store (POS, staff).")] = None,
    member: Annotated[str | None, typer.Option(help="Bind to one member (member keys).")] = None,
    staff_id: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key; the secret is printed once and stored only as a hash."""
    from memberops.api.auth import create_api_key

    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        key, secret = create_api_key(
            session, name=name, role=role, store_code=store, staff_id=staff_id, member_id=member
        )
        key_id = key.id
    if as_json:
        emit_json({"id": key_id, "role": role, "secret": secret})
    else:
        console.print(f"key {key_id} ({role}): {secret}")


app.add_typer(labels_app, name="labels")
app.add_typer(tiers_app, name="tiers")
app.add_typer(points_app, name="points")
app.add_typer(ledger_app, name="ledger")
