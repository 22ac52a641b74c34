"""`memberops apikeys`: create keys for POS, apps, staff and members."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from memberops.apikeys.service import create_api_key
from memberops.cli.common import JsonOpt, emit, handle_errors, in_transaction

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
    as_json: JsonOpt = False,
) -> None:
    """Create an API key; the secret is printed once and stored only as a hash."""
    key_id, secret = in_transaction(
        lambda _runtime, session: _create(session, name, role, store, staff_id, member)
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
) -> tuple[str, str]:
    key, secret = create_api_key(
        session, name=name, role=role, store_code=store, staff_id=staff_id, member_id=member
    )
    return key.id, secret
