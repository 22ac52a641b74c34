"""`memberops apikeys`: create, list and revoke keys for POS, apps, staff and members."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from memberops.apikeys.service import create_api_key, list_api_keys, revoke_api_key
from memberops.cli.common import JsonOpt, emit, handle_errors, in_transaction
from memberops.db import utcnow

__all__ = ["app"]

app = typer.Typer(help="API keys for POS, apps, staff and members.", no_args_is_help=True)


@app.command("create")
@handle_errors
def apikeys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    role: Annotated[str, typer.Option(help="admin, pos, staff, marketer, analyst or member.")],
    store: Annotated[str | None, typer.Option(help="Bind to one store (POS, staff).")] = None,
    member: Annotated[str | None, typer.Option(help="Bind to one member (member keys).")] = None,
    staff_id: Annotated[str | None, typer.Option()] = None,
    expires_days: Annotated[
        int | None, typer.Option(min=1, help="The key stops working after this many days.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key; the secret is printed once and stored only as a hash."""
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    key_id, secret = in_transaction(
        lambda _runtime, session: _create(session, name, role, store, staff_id, member, expires_at)
    )
    emit(
        {"id": key_id, "role": role, "secret": secret},
        as_json=as_json,
        text=f"key {key_id} ({role}): {secret}",
    )


def _create(
    session: Session,
    name: str,
    role: str,
    store: str | None,
    staff_id: str | None,
    member: str | None,
    expires_at: datetime | None,
) -> tuple[str, str]:
    key, secret = create_api_key(
        session,
        name=name,
        role=role,
        store_code=store,
        staff_id=staff_id,
        member_id=member,
        expires_at=expires_at,
    )
    return key.id, secret


@app.command("list")
@handle_errors
def apikeys_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Revoked keys too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Keys with role, scope, state, expiry and last use (never a secret)."""
    keys = in_transaction(
        lambda _runtime, session: list_api_keys(
            session, include_revoked=include_revoked, limit=10_000
        )
    )
    lines = [
        f"{k['id']}  {k['role']:<8} {k['state']:<7} {k['prefix']}…  {k['name']}"
        f"  last used {k['last_used_at'] or 'never'}"
        + (f"  expires {k['expires_at']}" if k["expires_at"] else "")
        for k in keys
    ]
    emit(keys, as_json=as_json, text="\n".join(lines) or "no keys")


@app.command("revoke")
@handle_errors
def apikeys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `apikeys list`).")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke a key; it stops working at once. Safe to repeat."""
    summary = in_transaction(lambda _runtime, session: revoke_api_key(session, key_id))
    emit(summary, as_json=as_json, text=f"key {key_id} revoked")
