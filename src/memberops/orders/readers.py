"""Streaming readers for order files: JSON Lines, CSV and Parquet (docs/formats.md).

Each reader yields `(locator, record)` where record is the nested order dict, or a
`ValidationError` for a row that cannot even be read. Files are read incrementally, so
memory stays bounded whatever the file size.

CSV and Parquet are flat: one row per order line, order-level columns repeated, the rows
of one order next to each other.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from memberops.errors import ValidationError
from memberops.identity.rules import IDENTIFIER_KINDS
from memberops.textfiles import text_lines

__all__ = [
    "FLAT_COLUMNS",
    "SourceRecord",
    "detect_format",
    "read_records",
    "records_from_json",
    "text_lines",
]

SourceRecord = tuple[str, "dict[str, Any] | ValidationError"]

ORDER_COLUMNS = (
    "source",
    "source_order_id",
    "channel",
    "store_code",
    "ordered_at",
    "meal_type",
    "party_size",
    "discount_cents",
    "total_cents",
    "currency",
    "vouchers",
)
CUSTOMER_COLUMNS = (
    *IDENTIFIER_KINDS,
    "phone_verified",
    "email_verified",
    "name",
    "nickname",
    "birthday",
    "gender",
)
LINE_COLUMNS = ("sku", "quantity", "unit_price_cents", "modifiers")
FLAT_COLUMNS = (*ORDER_COLUMNS, *CUSTOMER_COLUMNS, *LINE_COLUMNS)
_INT_COLUMNS = frozenset(
    {"party_size", "discount_cents", "total_cents", "quantity", "unit_price_cents"}
)
_BOOL_COLUMNS = frozenset({"phone_verified", "email_verified"})
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})


def detect_format(path: Path) -> str:
    """jsonl, csv or parquet, from the file name."""
    name = path.name.lower()
    for suffix, fmt in (
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
    ):
        if name.endswith(suffix):
            return fmt
    raise ValidationError(path.name, "-", "unknown file type (use .jsonl, .csv or .parquet)")


def _read_jsonl(path: Path, encoding: str = "utf-8") -> Iterator[SourceRecord]:
    any_line = False
    for line_no, line in text_lines(path, encoding):
        if not line.strip():
            continue
        any_line = True
        locator = f"{path.name} line {line_no}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield locator, ValidationError(locator, "-", f"is not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            yield locator, ValidationError(locator, "-", "must be a JSON object")
            continue
        yield locator, record
    if not any_line:
        raise ValidationError(path.name, "-", "the file is empty")


def _coerce_flat(locator: str, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str):
            value = value.strip()
        if key in _INT_COLUMNS and isinstance(value, str):
            if value == "":
                value = None
            else:
                try:
                    value = int(value)
                except ValueError:
                    raise ValidationError(locator, key, "must be a whole number") from None
        elif key in _BOOL_COLUMNS and isinstance(value, str):
            low = value.casefold()
            if low not in _TRUE | _FALSE:
                raise ValidationError(locator, key, "must be true or false")
            value = low in _TRUE
        elif isinstance(value, float) and key in _INT_COLUMNS:
            if value != int(value):
                raise ValidationError(locator, key, "must be a whole number")
            value = int(value)
        out[key] = value
    return out


def _nest(rows: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Flat rows of one order -> the nested order dict; order-level columns must agree."""
    first_locator, first = rows[0]
    for locator, row in rows[1:]:
        for column in (*ORDER_COLUMNS, *CUSTOMER_COLUMNS):
            if row.get(column) != first.get(column):
                raise ValidationError(
                    locator, column, f"differs from the order's first row ({first_locator})"
                )
    order: dict[str, Any] = {
        c: first.get(c) for c in ORDER_COLUMNS if first.get(c) not in (None, "")
    }
    customer = {c: first.get(c) for c in CUSTOMER_COLUMNS if first.get(c) not in (None, "")}
    order["customer"] = customer
    order["lines"] = [
        {
            "sku": row.get("sku"),
            "quantity": row.get("quantity"),
            "unit_price_cents": row.get("unit_price_cents"),
            "modifiers": row.get("modifiers") or [],
        }
        for _locator, row in rows
    ]
    return order


def _group_flat(
    rows: Iterator[tuple[str, dict[str, Any] | ValidationError]], name: str
) -> Iterator[SourceRecord]:
    current: list[tuple[str, dict[str, Any]]] = []
    current_key: tuple[Any, Any] | None = None
    finished: set[tuple[Any, Any]] = set()
    any_row = False

    def emit() -> Iterator[SourceRecord]:
        locator = (
            current[0][0]
            if len(current) == 1
            else f"{current[0][0]}-{current[-1][0].rsplit(' ', 1)[-1]}"
        )
        try:
            yield locator, _nest(current)
        except ValidationError as exc:
            yield locator, exc

    for locator, row in rows:
        any_row = True
        if isinstance(row, ValidationError):
            yield locator, row
            continue
        key = (row.get("source"), row.get("source_order_id"))
        if key != current_key and current:
            yield from emit()
            if current_key is not None:
                finished.add(current_key)
                if len(finished) > 100_000:  # bounded memory: only recent keys are checked
                    finished.clear()
            current = []
        if key != current_key and key in finished:
            yield (
                locator,
                ValidationError(
                    locator, "source_order_id", "this order's lines are not next to each other"
                ),
            )
            current_key = None
            continue
        current_key = key
        current.append((locator, row))
    if current:
        yield from emit()
    if not any_row:
        raise ValidationError(name, "-", "the file has a header but no rows")


def _csv_rows(
    path: Path, encoding: str = "utf-8"
) -> Iterator[tuple[str, dict[str, Any] | ValidationError]]:
    reader = csv.reader((line for _n, line in text_lines(path, encoding)), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(path.name, "-", "the file is empty") from None
    except csv.Error as exc:
        raise ValidationError(f"{path.name} line 1", "-", f"is not valid CSV ({exc})") from None
    header = [h.strip() for h in header]
    missing = [c for c in ("source", "source_order_id", "sku") if c not in header]
    if missing:
        raise ValidationError(
            f"{path.name} line 1", missing[0], "column is missing from the header"
        )
    unknown = [h for h in header if h not in FLAT_COLUMNS]
    if unknown:
        raise ValidationError(f"{path.name} line 1", unknown[0], "is not a known column")
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            locator = f"{path.name} line {reader.line_num}"
            raise ValidationError(
                locator, "-", f"is not valid CSV, the file may be truncated ({exc})"
            ) from None
        locator = f"{path.name} line {reader.line_num}"
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield (
                locator,
                ValidationError(
                    locator,
                    "-",
                    f"has {len(values)} of {len(header)} columns (the file may be truncated)",
                ),
            )
            continue
        row = dict(zip(header, values, strict=True))
        try:
            coerced = _coerce_flat(locator, row)
        except ValidationError as exc:
            yield locator, exc
            continue
        if isinstance(coerced.get("modifiers"), str):
            coerced["modifiers"] = [m for m in coerced["modifiers"].split(";") if m.strip()]
        yield locator, coerced


def _parquet_rows(path: Path) -> Iterator[tuple[str, dict[str, Any] | ValidationError]]:
    # pyarrow takes a second to import; only Parquet files need it. Not a hidden edge:
    # it is a third-party reader, not a memberops module.
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ValidationError(
            path.name, "-", f"is not a readable Parquet file ({type(exc).__name__})"
        ) from None
    names = parquet.schema_arrow.names
    unknown = [n for n in names if n not in FLAT_COLUMNS]
    if unknown:
        raise ValidationError(path.name, unknown[0], "is not a known column")
    row_no = 0
    for batch in parquet.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            row_no += 1
            locator = f"{path.name} row {row_no}"
            try:
                coerced = _coerce_flat(locator, row)
            except ValidationError as exc:
                yield locator, exc
                continue
            if isinstance(coerced.get("modifiers"), str):
                coerced["modifiers"] = [m for m in coerced["modifiers"].split(";") if m.strip()]
            yield locator, coerced


def read_records(
    path: Path, fmt: str | None = None, *, encoding: str = "utf-8"
) -> Iterator[SourceRecord]:
    """Stream the records of an order file; raises ValidationError if it is unreadable.

    `encoding` applies to the text formats (GB18030 and GBK exports are common).
    """
    if not path.exists():
        raise ValidationError(path.name, "-", "file not found")
    fmt = fmt or detect_format(path)
    if path.stat().st_size == 0:
        raise ValidationError(path.name, "-", "the file is empty")
    if fmt == "jsonl":
        return _read_jsonl(path, encoding)
    if fmt == "csv":
        return _group_flat(_csv_rows(path, encoding), path.name)
    if fmt == "parquet":
        return _group_flat(_parquet_rows(path), path.name)
    raise ValidationError(path.name, "-", f"unknown format {fmt!r}")


def records_from_json(body: Any) -> list[SourceRecord]:
    """API bodies: one order object, a list, or {"orders": [...]}."""
    if isinstance(body, dict) and "orders" in body and isinstance(body["orders"], list):
        items = body["orders"]
    elif isinstance(body, list):
        items = body
    else:
        items = [body]
    out: list[SourceRecord] = []
    for i, item in enumerate(items):
        locator = f"request index {i}"
        if isinstance(item, dict):
            out.append((locator, item))
        else:
            out.append((locator, ValidationError(locator, "-", "must be a JSON object")))
    return out
