"""`memberops members`: look a member up, export everything held, erase on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from memberops.cli.common import (
    JsonOpt,
    cli_actor,
    console,
    emit,
    emit_json,
    handle_errors,
    in_transaction,
    open_private,
)
from memberops.errors import NotFound
from memberops.identity.service import find_member_ids
from memberops.members.service import read_profile
from memberops.privacy.rights import erase_member, export_member
from memberops.runtime import Runtime

__all__ = ["app"]

app = typer.Typer(help="Look up, export and erase members.", no_args_is_help=True)


@app.command("show")
@handle_errors
def members_show(
    query: Annotated[str, typer.Argument(help="Phone, card number, email or member id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a member's profile (the read is audited)."""

    def work(runtime: Runtime, session: Session) -> list[dict[str, Any]]:
        ids = find_member_ids(session, runtime.keyring, query)
        if not ids:
            raise NotFound("no member matches")
        return [read_profile(session, runtime.keyring, m, actor=cli_actor()) for m in ids]

    profiles = in_transaction(work)
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


@app.command("export")
@handle_errors
def members_export(
    member_id: Annotated[str, typer.Argument(help="Member id.")],
    output: Annotated[Path | None, typer.Option(help="Write to this file (0600).")] = None,
) -> None:
    """Everything held about a member, as JSON (PIPL Art. 45, GDPR Art. 15/20)."""
    data = in_transaction(
        lambda runtime, session: export_member(
            session, runtime.keyring, member_id, actor=cli_actor()
        )
    )
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if output is None:
        print(text)
    else:
        with open_private(output) as handle:
            handle.write(text + "\n")
        console.print(f"Exported member {member_id} to {output}")


@app.command("erase")
@handle_errors
def members_erase(
    member_id: Annotated[str, typer.Argument(help="Member id.")],
    reason: Annotated[str, typer.Option(help="Why (e.g. the request reference).")],
    as_json: JsonOpt = False,
) -> None:
    """Erase a member's personal data; orders stay under a pseudonym. Idempotent."""
    erased = in_transaction(
        lambda _runtime, session: erase_member(session, member_id, actor=cli_actor(), reason=reason)
    )
    emit(
        {"member_id": member_id, "erased": erased, "already_erased": not erased},
        as_json=as_json,
        text=f"member {member_id}: {'erased' if erased else 'was already erased'}",
    )
