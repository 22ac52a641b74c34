"""`memberops pipeline run` and `memberops export orders`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from memberops import clock
from memberops.cli.common import console, emit_json, err_console, handle_errors, open_cli_runtime
from memberops.db import transaction
from memberops.errors import ValidationError
from memberops.pipeline.extract import export_orders
from memberops.pipeline.runner import run_refresh
from memberops.pipeline.service import STEPS

__all__ = ["app", "export_app"]

app = typer.Typer(help="The member 360 pipeline.", no_args_is_help=True)
export_app = typer.Typer(help="Export data for a lake.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command("run")
@handle_errors
def pipeline_run(
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded), postgres (in place) or spark (local).")
    ] = "duckdb",
    full: Annotated[bool, typer.Option("--full", help="Rebuild everything.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Refresh member and store profiles (incremental unless --full or first run)."""
    runtime = open_cli_runtime()
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    )
    with progress:
        task = progress.add_task(f"refresh on {engine}", total=len(STEPS))
        report = run_refresh(
            runtime,
            engine=engine,
            full=full,
            progress=lambda step: progress.update(task, advance=1, description=step),
        )
    if as_json:
        emit_json(report.to_dict())
        return
    kind = "full rebuild" if report.full else "incremental refresh"
    console.print(
        f"{kind} on {report.engine}: {report.members_refreshed:,} members refreshed, "
        f"{report.members_removed:,} removed, {report.stores:,} store profiles; "
        f"as of {report.as_of.isoformat()} in {sum(report.seconds.values()):.2f} s."
    )


def _when(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("export", field, "must be an ISO 8601 date or time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@export_app.command("orders")
@handle_errors
def export_orders_cmd(
    out: Annotated[Path, typer.Option("--out", help="Lake directory.")] = Path("lake"),
    since: Annotated[
        str | None, typer.Option(help="Ingested at or after (default: the last watermark).")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Ingested before (default: now).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Counted orders and lines as Parquet partitioned by order date, with a watermark."""
    runtime = open_cli_runtime()
    until = _when(to, "to") or clock.now()
    with transaction(runtime.sessions) as session:
        report = export_orders(session, out, since=_when(since, "since"), to=until)
    if as_json:
        emit_json(report.to_dict())
        return
    console.print(
        f"exported {report.orders:,} orders and {report.lines:,} lines into "
        f"{len(report.partitions)} date partitions under {report.directory}; watermark {report.to}"
    )
