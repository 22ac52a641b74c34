"""`memberops segments ...`: list fields, preview, define, materialise, read history and
export segments. The operator acts as an admin; exports carry pseudonymous ids only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.status import Status

from memberops.cli.common import (
    cli_actor,
    console,
    emit,
    err_console,
    handle_errors,
    in_transaction,
    print_rows,
)
from memberops.errors import ValidationError
from memberops.runtime import Runtime
from memberops.segments import service
from memberops.segments.fields import FUNCTIONS, all_fields
from memberops.segments.models import Segment

__all__ = ["app"]

app = typer.Typer(
    help="Member segments: preview, define, materialise, export.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _segment_dict(session: Any, segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "name": segment.name,
        "expression": segment.expression,
        "description": segment.description,
        "owner": segment.owner,
        "version": segment.version,
        "created_at": segment.created_at.isoformat(),
        "updated_at": segment.updated_at.isoformat(),
        "materialised_at": segment.materialised_at.isoformat() if segment.materialised_at else None,
        "size": service.segment_size(session, segment.id),
    }


@app.command("fields")
@handle_errors
def fields_command(as_json: JsonOpt = False) -> None:
    """Fields and functions an expression can use."""
    rows = [
        {"name": f.name, "kind": f.kind, "description": f.description, "source": f.source}
        for f in all_fields().values()
    ] + [
        {"name": f"{n}(text)", "kind": "bool", "description": s.description, "source": "function"}
        for n, s in FUNCTIONS.items()
    ]
    emit(
        rows,
        as_json=as_json,
        text=lambda r: print_rows(
            "segment fields", r, {"name": "name", "kind": "kind", "description": "description"}
        ),
    )


@app.command("preview")
@handle_errors
def preview_command(
    expression: Annotated[
        str, typer.Argument(help="e.g. 'visits >= 3 and consent(\"marketing\")'")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Count the members an expression matches now; stores nothing."""

    def work(_runtime: Runtime, session: Any) -> dict[str, Any]:
        preview = service.preview_segment(session, expression, sample=0)
        return {"count": preview.count, "expression": preview.expression}

    with Status("counting...", console=err_console):
        result = in_transaction(work)
    emit(
        result,
        as_json=as_json,
        text=f"{result['count']:,} members match  [dim]{result['expression']}[/]",
    )


@app.command("create")
@handle_errors
def create_command(
    name: str,
    expression: str,
    description: Annotated[str, typer.Option(help="What the segment is for.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Store a new segment definition."""
    actor = cli_actor()

    def work(_runtime: Runtime, session: Any) -> dict[str, Any]:
        segment = service.create_segment(
            session, name=name, expression=expression, description=description, actor=actor
        )
        return _segment_dict(session, segment)

    result = in_transaction(work)
    emit(result, as_json=as_json, text=f"segment {result['name']} created ({result['id']})")


@app.command("update")
@handle_errors
def update_command(
    name: str,
    expression: Annotated[str | None, typer.Option(help="New expression.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Save a new version of a segment's definition."""
    actor = cli_actor()

    def work(_runtime: Runtime, session: Any) -> dict[str, Any]:
        segment = service.update_segment(
            session, name, expression=expression, description=description, actor=actor
        )
        return _segment_dict(session, segment)

    result = in_transaction(work)
    emit(
        result, as_json=as_json, text=f"segment {result['name']} is at version {result['version']}"
    )


@app.command("list")
@handle_errors
def list_command(as_json: JsonOpt = False) -> None:
    """Every stored segment."""
    rows = in_transaction(lambda _r, s: [_segment_dict(s, x) for x in service.list_segments(s)])
    emit(
        rows,
        as_json=as_json,
        text=lambda r: print_rows(
            "segments",
            r,
            {
                "name": "name",
                "version": "v",
                "size": "size",
                "materialised_at": "materialised",
                "expression": "expression",
            },
        ),
    )


@app.command("show")
@handle_errors
def show_command(name: str, as_json: JsonOpt = False) -> None:
    """One segment's definition and size."""
    row = in_transaction(lambda _r, s: _segment_dict(s, service.get_segment_or_raise(s, name)))

    def text(data: dict[str, Any]) -> None:
        for key, value in data.items():
            console.print(f"[bold]{key}[/]: {value if value is not None else '-'}", highlight=False)

    emit(row, as_json=as_json, text=text)


@app.command("delete")
@handle_errors
def delete_command(name: str) -> None:
    """Remove a segment with its history."""
    actor = cli_actor()
    in_transaction(lambda _r, s: service.delete_segment(s, name, actor=actor))
    console.print(f"segment {name} deleted")


@app.command("materialise")
@handle_errors
def materialise_command(name: str, as_json: JsonOpt = False) -> None:
    """Bring the stored membership up to date: who entered, who left."""
    actor = cli_actor()

    def work(_runtime: Runtime, session: Any) -> dict[str, Any]:
        run = service.materialise_segment(session, name, actor=actor)
        return {
            "at": run.at.isoformat(),
            "version": run.version,
            "entered": run.entered,
            "left": run.left,
            "size": run.size,
        }

    with Status("materialising...", console=err_console):
        result = in_transaction(work)
    emit(
        result,
        as_json=as_json,
        text=(
            f"{name}: {result['entered']:,} entered, {result['left']:,} left,"
            f" {result['size']:,} members"
        ),
    )


@app.command("history")
@handle_errors
def history_command(name: str, as_json: JsonOpt = False) -> None:
    """Versions of the definition and every materialisation, newest first."""

    def work(_runtime: Runtime, session: Any) -> dict[str, Any]:
        history = service.segment_history(session, name)
        return {
            "segment": history["segment"].name,
            "versions": history["versions"],
            "runs": history["runs"],
        }

    result = in_transaction(work)

    def text(data: dict[str, Any]) -> None:
        print_rows(
            f"{data['segment']}: versions",
            data["versions"],
            {"version": "v", "changed_at": "saved", "changed_by": "by", "expression": "expression"},
        )
        print_rows(
            f"{data['segment']}: materialisations",
            data["runs"],
            {"at": "at", "version": "v", "entered": "entered", "left": "left", "size": "size"},
        )

    emit(result, as_json=as_json, text=text)


@app.command("export")
@handle_errors
def export_command(
    name: str,
    out: Annotated[Path, typer.Option("--out", help="File to write: .csv or .parquet.")],
    as_json: JsonOpt = False,
) -> None:
    """Write the current members (pseudonymous ids, never names or phones) to a file."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in service.EXPORT_FORMATS:
        raise ValidationError("export", "out", "the file name must end in .csv or .parquet")
    actor = cli_actor()
    body = in_transaction(
        lambda runtime, s: service.export_segment(s, runtime.keyring, name, fmt=fmt, actor=actor)
    )
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    emit(
        {"path": str(out), "format": fmt, "bytes": len(body)},
        as_json=as_json,
        text=f"wrote {out} ({len(body):,} bytes)",
    )
