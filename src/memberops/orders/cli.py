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
from sqlalchemy.orm import Session

from memberops.cli.common import (
    JsonOpt,
    cli_actor,
    console,
    emit,
    handle_errors,
    open_cli_runtime,
    open_private,
    progress,
)
from memberops.db import run_in_transaction
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
    encoding: Annotated[
        str, typer.Option(help="Text encoding of CSV/JSONL files, e.g. gb18030 or gbk.")
    ] = "utf-8",
    as_json: JsonOpt = False,
) -> None:
    """Import a file whole, or not at all (unless --skip-invalid). Re-importing is a no-op."""
    fmt = fmt or detect_format(file)
    reject_path = reject_file or file.with_name(file.name + ".rejects.jsonl")
    rejects: list[TextIO] = []  # opened on the first rejected record, streamed to disk

    def on_reject(
        locator: str, data: dict[str, Any] | None, error: ValidationError, kind: str = "rejected"
    ) -> None:
        if not rejects:
            rejects.append(open_private(reject_path))
        row = {"record": locator, "field": error.field, "reason": error.reason, "data": data}
        if kind != "rejected":
            row["kind"] = kind  # stored, with the named field left out
        rejects[0].write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    size = file.stat().st_size if file.exists() else 0
    digest = _sha256(file) if 0 < size < 2**31 else None
    runtime = open_cli_runtime()
    with progress() as bar:
        task = bar.add_task(f"importing {file.name}", total=None)

        def load(session: Session) -> ImportReport:
            # A concurrent import of the same records makes this run again from the start
            # (memberops.db.run_in_transaction): rejects and progress start over too.
            while rejects:
                rejects.pop().close()
            bar.reset(task)
            return ingest(
                session,
                runtime.keyring,
                read_records(file, fmt, encoding=encoding),
                actor=cli_actor(),
                source_name=str(file.name),
                fmt=fmt,
                file_sha256=digest,
                skip_invalid=skip_invalid,
                reject=on_reject,
                warn=lambda locator, data, error: on_reject(locator, data, error, "warning"),
                on_progress=lambda n: bar.advance(task, n),
            )

        report = run_in_transaction(runtime.sessions, load)
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
    if report.warnings:
        console.print(f"{report.warnings:,} records stored without an unusable phone or email.")
    if rejects:
        console.print(f"Rejected records, warnings and reasons: {reject_path}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
