"""What every command shares: settings and runtime at the edge, the CLI actor, error
mapping to exit codes, and JSON output."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from memberops.actor import Actor
from memberops.config import Settings
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
    "cli_actor",
    "console",
    "emit_json",
    "err_console",
    "exit_code_for",
    "handle_errors",
    "open_cli_runtime",
]

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

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


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
