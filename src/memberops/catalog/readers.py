"""Reading store and catalog files: CSV (a header row) or JSON Lines (docs/formats.md).

Yields `(locator, record)` with the record as a mapping, or a ValidationError for a row
that cannot be read; the file is streamed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from memberops.errors import ValidationError
from memberops.textfiles import text_lines

__all__ = ["MasterRecord", "read_master_records"]

MasterRecord = tuple[str, "dict[str, Any] | ValidationError"]


def _jsonl(path: Path, encoding: str) -> Iterator[MasterRecord]:
    for line_no, line in text_lines(path, encoding):
        if not line.strip():
            continue
        locator = f"{path.name} line {line_no}"
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            yield locator, ValidationError(locator, "-", "is not valid JSON")
            continue
        if not isinstance(record, dict):
            yield locator, ValidationError(locator, "-", "must be a JSON object")
            continue
        yield locator, record


def _csv(path: Path, encoding: str, fields: tuple[str, ...]) -> Iterator[MasterRecord]:
    reader = csv.reader((line for _n, line in text_lines(path, encoding)), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error:
        raise ValidationError(f"{path.name} line 1", "-", "is not valid CSV") from None
    unknown = [h for h in header if h not in fields]
    if unknown:
        raise ValidationError(f"{path.name} line 1", unknown[0][:40], "is not a known column")
    if len(set(header)) != len(header):
        raise ValidationError(f"{path.name} line 1", "-", "repeats a column")
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            locator = f"{path.name} line {reader.line_num}"
            raise ValidationError(locator, "-", "is not valid CSV") from None
        locator = f"{path.name} line {reader.line_num}"
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield (
                locator,
                ValidationError(locator, "-", f"has {len(values)} of {len(header)} columns"),
            )
            continue
        yield locator, dict(zip(header, values, strict=True))


def read_master_records(
    path: Path, *, fields: tuple[str, ...], encoding: str = "utf-8"
) -> Iterator[MasterRecord]:
    """The records of a stores or catalog file (.csv or .jsonl/.json/.ndjson)."""
    if not path.is_file():
        raise ValidationError(path.name, "-", "file not found")
    name = path.name.lower()
    if name.endswith(".csv"):
        return _csv(path, encoding, fields)
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return _jsonl(path, encoding)
    raise ValidationError(path.name, "-", "unknown file type (use .csv or .jsonl)")
