"""What every command shares: settings and runtime at the edge, the CLI actor, error
mapping to exit codes, one transaction per command, and JSON or text output.

A command reads its arguments, runs its unit of work through `in_transaction` (open the
runtime, one transaction committed once, rolled back on error) and hands the result to
`emit` (JSON with `--json`, else the command's own text).
"""

from __future__ import annotations

import dataclasses
import functools
import getpass
import json
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TextIO, TypeVar

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.config import Settings
from memberops.db import is_unavailable, transaction
from memberops.errors import (
    BatchValidationError,
    ConfigurationError,
    Conflict,
    Forbidden,
    MemberOpsError,
    NotFound,
    Unavailable,
    ValidationError,
)
from memberops.logs import neutralise
from memberops.runtime import Runtime, open_runtime

__all__ = [
    "JsonOpt",
    "cli_actor",
    "console",
    "emit",
    "emit_json",
    "err_console",
    "exit_code_for",
    "handle_errors",
    "in_transaction",
    "open_cli_runtime",
    "open_private",
    "print_counts",
    "print_rows",
    "progress",
    "set_debug",
]

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

# sysexits(3) codes, so scripts can tell bad data from a missing member from bad keys.
_EXIT_CODES: list[tuple[type[MemberOpsError], int]] = [
    (BatchValidationError, 65),
    (ValidationError, 65),
    (NotFound, 66),
    (Conflict, 75),
    (Unavailable, 75),
    (Forbidden, 77),
    (ConfigurationError, 78),
]
# EX_SOFTWARE: a bug, not the user's input.
_INTERNAL_ERROR_EXIT = 70

# Set by the root command's `--debug`: unexpected errors then print their traceback.
_DEBUG: list[bool] = [False]


def set_debug(enabled: bool) -> None:
    """Print tracebacks of unexpected errors (`memberops --debug ...`)."""
    _DEBUG[0] = enabled


def _report(exc: MemberOpsError, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(exc.to_dict(), ensure_ascii=False) + "\n")
        return
    err_console.print(f"[red]error:[/red] {neutralise(str(exc))}", markup=True, highlight=False)
    if isinstance(exc, BatchValidationError):
        for error in exc.errors[1:20]:
            err_console.print(f"  {neutralise(str(error))}", highlight=False, markup=False)


def exit_code_for(error: MemberOpsError) -> int:
    """The sysexits code for an error (1 for anything the table does not name)."""
    for cls, code in _EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn every error into a clear message (JSON with --json) and an exit code.

    MemberOpsError says what was wrong; a database out of reach or busy says so (exit
    75, try again); anything else is reported as an internal error by type only, because
    its text can carry SQL parameters such as blind-index values. `--debug` prints the
    traceback as well.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("as_json"))
        try:
            return func(*args, **kwargs)
        except MemberOpsError as exc:
            _report(exc, as_json=as_json)
            raise typer.Exit(exit_code_for(exc)) from None
        except (
            typer.Exit,
            typer.Abort,
            click.exceptions.Exit,
            click.exceptions.Abort,
            click.ClickException,
        ):
            raise  # deliberate exits and usage errors keep their own codes
        except Exception as exc:
            if _DEBUG[0]:
                traceback.print_exc(file=sys.stderr)
            if is_unavailable(exc):
                unavailable = Unavailable("the database is busy or not reachable; try again")
                _report(unavailable, as_json=as_json)
                raise typer.Exit(exit_code_for(unavailable)) from None
            internal = MemberOpsError(
                f"internal error ({type(exc).__name__}); run with --debug for details"
            )
            internal.code = "internal"
            _report(internal, as_json=as_json)
            raise typer.Exit(_INTERNAL_ERROR_EXIT) from None
        finally:
            while _OPEN_RUNTIMES:
                _OPEN_RUNTIMES.pop().close()

    return wrapper


# Runtimes opened by the running command; `handle_errors` closes them when it returns.
_OPEN_RUNTIMES: list[Runtime] = []


def open_cli_runtime(*, lock_timeout_s: float | None = None) -> Runtime:
    """The runtime for one command, from the environment; closed when the command ends.

    `lock_timeout_s` shortens the longest database wait (the server answers 503 rather
    than keep a client waiting behind a long import).
    """
    settings = Settings.from_env()
    if lock_timeout_s is not None:
        settings = dataclasses.replace(settings, lock_timeout_s=lock_timeout_s)
    runtime = open_runtime(settings)
    _OPEN_RUNTIMES.append(runtime)
    return runtime


def cli_actor() -> Actor:
    """The operator at the terminal acts as an admin, named by their OS account."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(kind="cli", id=user, role="admin")


def in_transaction(work: Callable[[Runtime, Session], R]) -> R:
    """Open the command's runtime and run `work` in one transaction.

    The transaction commits once when `work` returns and rolls back if it raises; build
    the result (plain data, not ORM rows) inside `work`.
    """
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        return work(runtime, session)


def emit(data: Any, *, as_json: bool, text: Callable[[Any], None] | str) -> None:
    """Print `data` as JSON with `--json`; otherwise print `text` (or call it with `data`)."""
    if as_json:
        emit_json(data)
    elif callable(text):
        text(data)
    else:
        console.print(text)


def emit_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout (non-ASCII kept as is)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


_OPAQUE_ID = re.compile(r"[0-9a-f]{26}")


def print_rows(title: str, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    """A table of `rows`, one column per key of `columns` (key -> heading)."""
    table = Table(title=title)
    for key, heading in columns.items():
        # Ids are copied into the next command: never cut or folded, whatever the width.
        is_id = any(_OPAQUE_ID.fullmatch(_cell(row.get(key))) for row in rows)
        table.add_column(heading, no_wrap=is_id, min_width=26 if is_id else None)
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key in columns))
    console.print(table)


def print_counts(title: str, label: str, counts: dict[str, int], total: int) -> None:
    """A table of `counts` (label -> members), with each one's share of `total`."""
    print_rows(
        title,
        [
            {label: key, "members": f"{n:,}", "share": f"{n / (total or 1):.1%}"}
            for key, n in counts.items()
        ],
        {label: label, "members": "members", "share": "share"},
    )


def progress() -> Progress:
    """A progress display on stderr, so `--json` output on stdout stays clean."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def open_private(path: Path) -> TextIO:
    """A file only its owner can read: rejects and exports hold personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")
