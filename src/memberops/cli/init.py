"""`memberops init`: a new chain's home, database, keys and first admin key."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, select

from memberops.apikeys.models import ApiKey
from memberops.apikeys.service import create_api_key
from memberops.cli.common import console, emit_json, handle_errors, open_cli_runtime
from memberops.db import transaction

__all__ = ["init"]


@handle_errors
def init(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create the home directory, the database and the keys, and print an admin API key.

    Safe to run again: existing data and keys are kept, and a further admin key is made
    (the secret is shown once and stored only as a hash).
    """
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        first = not session.scalar(select(func.count()).select_from(ApiKey))
        key, secret = create_api_key(session, name="admin (memberops init)", role="admin")
        key_id = key.id
    settings = runtime.settings
    result = {
        "home": str(settings.home),
        # The URL without its password, if it has one.
        "database": runtime.engine.url.render_as_string(hide_password=True),
        "keys": "MEMBEROPS_KEYS" if settings.keys_json else str(settings.key_file),
        "new": first,
        "admin_key_id": key_id,
        "admin_key": secret,
    }
    if as_json:
        emit_json(result)
        return
    console.print(
        f"memberops {'initialised' if first else 'was already initialised'} in {settings.home}\n"
        f"  database: {result['database']}\n  keys: {result['keys']} (back this file up)\n"
        f"  admin API key (shown once): [bold]{secret}[/bold]\n"
        "Next: memberops import stores FILE, memberops import catalog FILE, "
        "memberops import orders FILE (docs/formats.md)."
    )
