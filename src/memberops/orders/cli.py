"""Order commands: `memberops import orders FILE`.

The `import` group is assembled in memberops.cli.main, where each capability that loads
files adds its command.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from memberops.cli.common import (
    JsonOpt,
    cli_actor,
    console,
    emit,
    handle_errors,
    in_transaction,
    open_private,
    progress,
)
from memberops.errors import ValidationError
from memberops.orders.readers import detect_format, read_records
from memberops.orders.service import ImportReport, ingest

__all__ = ["import_orders"]


@handle_errors
def import_orders(
    file: Annotated[Path, typer.Argument(help="A .jsonl, .csv or .parquet file.")],
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl, csv or parquet.")] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Load valid records; reject the others.")
    ] = False,
    reject_file: Annotated[
        Path | None, typer.Option(help="Where rejected records go (with --skip-invalid).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a file whole, or not at all (unless --skip-invalid). Re-importing is a no-op."""
    fmt = fmt or detect_format(file)
    reject_path = reject_file or file.with_name(file.name + ".rejects.jsonl")
    rejects: list[TextIO] = []  # opened on the first rejected record, streamed to disk

    def on_reject(locator: str, data: dict[str, Any] | None, error: ValidationError) -> None:
        if not rejects:
            rejects.append(open_private(reject_path))
        row = {"record": locator, "field": error.field, "reason": error.reason, "data": data}
        rejects[0].write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    size = file.stat().st_size if file.exists() else 0
    with progress() as bar:
        task = bar.add_task(f"importing {file.name}", total=None)
        report = in_transaction(
            lambda runtime, session: ingest(
                session,
                runtime.keyring,
                read_records(file, fmt),
                actor=cli_actor(),
                source_name=str(file.name),
                fmt=fmt,
                file_sha256=_sha256(file) if size < 2**31 else None,
                skip_invalid=skip_invalid,
                reject=on_reject,
                on_progress=lambda n: bar.advance(task, n),
            )
        )
    for handle in rejects:
        handle.close()
    result = report.to_dict()
    if rejects:
        result["reject_file"] = str(reject_path)
    emit(result, as_json=as_json, text=lambda _: _print_report(file, report, rejects, reject_path))


def _print_report(
    file: Path, report: ImportReport, rejects: list[TextIO], reject_path: Path
) -> None:
    console.print(
        f"{file.name}: {report.orders_created:,} orders, {report.adjustments_created:,} "
        f"refunds/voids, {report.events_created:,} events, {report.consents_recorded:,} "
        f"consents stored; {report.duplicates:,} already present; {report.rejected:,} rejected."
    )
    if rejects:
        console.print(f"Rejected records and reasons: {reject_path}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
