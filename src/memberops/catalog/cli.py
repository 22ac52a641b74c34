"""`memberops import stores FILE` and `memberops import catalog FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from memberops.catalog.readers import read_master_records
from memberops.catalog.rules import ITEM_FIELDS, STORE_FIELDS
from memberops.catalog.service import MasterImportReport, import_items, import_stores
from memberops.cli.common import console, emit_json, handle_errors, open_cli_runtime
from memberops.db import run_in_transaction

__all__ = ["import_catalog", "import_stores_file"]

FileArg = Annotated[Path, typer.Argument(help="A .csv or .jsonl file (docs/formats.md).")]
EncodingOpt = Annotated[str, typer.Option(help="Text encoding of the file, e.g. gb18030 or gbk.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _print(file: Path, what: str, report: MasterImportReport, as_json: bool) -> None:
    if as_json:
        emit_json(report.to_dict())
        return
    console.print(
        f"{file.name}: {report.created:,} {what} created, {report.updated:,} updated, "
        f"{report.unchanged:,} unchanged."
    )


@handle_errors
def import_stores_file(
    file: FileArg, encoding: EncodingOpt = "utf-8", as_json: JsonOpt = False
) -> None:
    """Create or update stores from a file, all or nothing. Re-importing is a no-op."""
    runtime = open_cli_runtime()
    report = run_in_transaction(
        runtime.sessions,
        lambda session: import_stores(
            session, read_master_records(file, fields=STORE_FIELDS, encoding=encoding)
        ),
    )
    _print(file, "stores", report, as_json)


@handle_errors
def import_catalog(
    file: FileArg, encoding: EncodingOpt = "utf-8", as_json: JsonOpt = False
) -> None:
    """Create or update catalog items from a file, all or nothing. Re-importing is a no-op."""
    runtime = open_cli_runtime()
    report = run_in_transaction(
        runtime.sessions,
        lambda session: import_items(
            session, read_master_records(file, fields=ITEM_FIELDS, encoding=encoding)
        ),
    )
    _print(file, "items", report, as_json)
