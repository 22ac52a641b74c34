"""What every command shares: settings and runtime at the edge, the CLI actor, error
mapping to exit codes, one transaction per command, and JSON or text output.

A command reads its arguments, runs its unit of work through `in_transaction` (open the
runtime, one transaction committed once, rolled back on error) and hands the result to
`emit` (JSON with `--json`, else the command's own text).
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TextIO, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.config import Settings
from memberops.db import transaction
from memberops.errors import (
    BatchValidationError,
    ConfigurationError,
    Conflict,
    Forbidden,
    MemberOpsError,
    NotFound,
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
    "print_rows",
    "progress",
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
    (Forbidden, 77),
    (ConfigurationError, 78),
]


def exit_code_for(error: MemberOpsError) -> int:
    """The sysexits code for an error (1 for anything the table does not name)."""
    for cls, code in _EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn MemberOpsError into a clear message (JSON with --json) and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except MemberOpsError as exc:
            if kwargs.get("as_json"):
                sys.stdout.write(json.dumps(exc.to_dict(), ensure_ascii=False) + "\n")
            else:
                err_console.print(
                    f"[red]error:[/red] {neutralise(str(exc))}", markup=True, highlight=False
                )
                if isinstance(exc, BatchValidationError):
                    for error in exc.errors[1:20]:
                        err_console.print(
                            f"  {neutralise(str(error))}", highlight=False, markup=False
                        )
            raise typer.Exit(exit_code_for(exc)) from None
        finally:
            while _OPEN_RUNTIMES:
                _OPEN_RUNTIMES.pop().close()

    return wrapper


# Runtimes opened by the running command; `handle_errors` closes them when it returns.
_OPEN_RUNTIMES: list[Runtime] = []


def open_cli_runtime() -> Runtime:
    """The runtime for one command, from the environment; closed when the command ends."""
    runtime = open_runtime(Settings.from_env())
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


def print_rows(title: str, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    """A table of `rows`, one column per key of `columns` (key -> heading)."""
    table = Table(*columns.values(), title=title)
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key in columns))
    console.print(table)


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
