"""Privacy commands: `memberops keys`, `memberops audit` and `memberops consent`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from memberops.cli.common import (
    JsonOpt,
    cli_actor,
    console,
    emit,
    emit_json,
    err_console,
    handle_errors,
    in_transaction,
    open_cli_runtime,
    print_rows,
    progress,
)
from memberops.errors import ValidationError
from memberops.members.service import get_member_or_raise
from memberops.privacy.audit import list_entries, verify_chain
from memberops.privacy.consent import current_consents, record_consent
from memberops.privacy.crypto import save_keyring
from memberops.privacy.keys import add_new_keys, rotate
from memberops.runtime import Runtime

__all__ = ["audit_app", "consent_app", "keys_app"]

keys_app = typer.Typer(help="Encryption and blind-index keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
consent_app = typer.Typer(help="Consent per purpose.", no_args_is_help=True)


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
    # Rotation commits batch by batch (resumable), so it takes the session factory.
    with progress() as bar:
        task = bar.add_task("re-encrypting", total=None)
        result = rotate(
            runtime.sessions,
            keyring,
            actor=cli_actor(),
            batch_size=batch_size,
            on_progress=lambda p: bar.update(task, completed=p.done, total=p.total),
        )
    data = {
        "reencrypted": result.done,
        "active_encryption_key": keyring.active_encryption_id,
        "active_index_key": keyring.active_index_id,
    }
    emit(
        data,
        as_json=as_json,
        text=f"{result.done:,} values now under keys {keyring.active_encryption_id}/"
        f"{keyring.active_index_id}",
    )


# --------------------------------------------------------------------------- audit
@audit_app.command("verify")
@handle_errors
def audit_verify(as_json: JsonOpt = False) -> None:
    """Walk the hash chain; exit 1 if an entry was changed, deleted or reordered."""
    result = in_transaction(lambda _runtime, session: verify_chain(session))
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
    if not member and not actor:
        raise ValidationError("audit show", "--member/--actor", "give one of them")

    def work(_runtime: Runtime, session: Session) -> list[dict[str, Any]]:
        return [
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

    emit(
        in_transaction(work),
        as_json=as_json,
        text=lambda rows: print_rows(
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
        ),
    )


# --------------------------------------------------------------------------- consent
def _consent(
    member_id: str, purpose: str, granted: bool, channel: str, notice: str, as_json: bool
) -> None:
    def work(_runtime: Runtime, session: Session) -> dict[str, bool]:
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
        return current_consents(session, member.id)

    emit(in_transaction(work), as_json=as_json, text=console.print)


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
