"""`memberops staff ...`: console accounts for people (passwords hashed with scrypt)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy import select

from memberops.cli.common import console, emit_json, handle_errors, open_cli_runtime
from memberops.db import transaction, utcnow
from memberops.errors import NotFound, ValidationError
from memberops.servicedesk.service import store_by_code_or_raise
from memberops.web.auth import create_staff_account
from memberops.web.models import StaffAccount

__all__ = ["app"]

app = typer.Typer(help="Console accounts for staff, managers and admins.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command("create")
@handle_errors
def create(
    username: Annotated[str, typer.Argument(help="Sign-in name (lower case).")],
    role: Annotated[str, typer.Option(help="admin, manager, staff, pos, marketer or analyst.")],
    store: Annotated[str | None, typer.Option(help="Bind the account to one store.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a console account; the password is asked for (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        if store is not None:
            store_by_code_or_raise(session, store)
        account = create_staff_account(
            session,
            username=username,
            password=password,
            role=role,
            store_code=store,
            display_name=name,
        )
        result = {"id": account.id, "username": account.username, "role": account.role}
    if as_json:
        emit_json(result)
    else:
        console.print(f"staff account {result['username']} ({result['role']}) created")


@app.command("list")
@handle_errors
def list_accounts(as_json: JsonOpt = False) -> None:
    """Every console account (never a password)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        rows = [
            {
                "username": a.username,
                "role": a.role,
                "store": a.store_code,
                "disabled": a.disabled_at is not None,
            }
            for a in session.scalars(select(StaffAccount).order_by(StaffAccount.username))
        ]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        flag = " (disabled)" if r["disabled"] else ""
        console.print(f"{r['username']}  {r['role']}  {r['store'] or '-'}{flag}")


@app.command("disable")
@handle_errors
def disable(username: Annotated[str, typer.Argument(help="Sign-in name.")]) -> None:
    """Disable an account: its sessions stop working at once."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        account = session.scalar(select(StaffAccount).where(StaffAccount.username == username))
        if account is None:
            raise NotFound(f"staff account {username} not found")
        if account.disabled_at is not None:
            raise ValidationError("staff account", "username", "is already disabled")
        account.disabled_at = utcnow()
    console.print(f"staff account {username} disabled")
