"""Ingestion promises: idempotent, all-or-nothing, bad input named precisely."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from memberops.actor import Actor
from memberops.db import transaction
from memberops.errors import BatchValidationError, ValidationError
from memberops.orders.models import Order, OrderAdjustment, OrderLine
from memberops.orders.readers import FLAT_COLUMNS, read_records
from memberops.orders.service import ImportReport, ingest
from memberops.runtime import Runtime


def run_import(
    runtime: Runtime, actor: Actor, records: list[tuple[str, Any]], **kwargs: Any
) -> ImportReport:
    with transaction(runtime.sessions) as session:
        return ingest(
            session, runtime.keyring, records, actor=actor, source_name="t", fmt="t", **kwargs
        )


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            "orders": session.scalar(select(func.count()).select_from(Order)) or 0,
            "lines": session.scalar(select(func.count()).select_from(OrderLine)) or 0,
            "adjustments": session.scalar(select(func.count()).select_from(OrderAdjustment)) or 0,
        }


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def flatten(order: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for line in order["lines"]:
        row = {c: "" for c in FLAT_COLUMNS}
        for key, value in order.items():
            if key in row and not isinstance(value, list | dict):
                row[key] = value
        for key, value in order.get("customer", {}).items():
            row[key] = value
        row.update(
            sku=line["sku"],
            quantity=line["quantity"],
            unit_price_cents=line["unit_price_cents"],
            modifiers=";".join(line.get("modifiers", [])),
        )
        rows.append(row)
    return rows


def write_csv(path: Path, orders: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(FLAT_COLUMNS))
        writer.writeheader()
        for o in orders:
            writer.writerows(flatten(o))
    return path


# ---------------------------------------------------------------------------- idempotence
def test_reimporting_the_same_orders_changes_nothing(seeded: Runtime, admin: Actor, order):
    records = [(f"r{i}", order(str(i))) for i in range(20)]
    first = run_import(seeded, admin, records)
    before = counts(seeded)
    second = run_import(seeded, admin, records)
    assert first.orders_created == 20 and second.orders_created == 0
    assert second.duplicates == 20
    assert counts(seeded) == before == {"orders": 20, "lines": 40, "adjustments": 0}


def test_same_order_id_with_other_content_is_a_conflict_not_an_overwrite(
    seeded: Runtime, admin: Actor, order
):
    run_import(seeded, admin, [("r1", order("1"))])
    changed = order("1", discount=100)
    with pytest.raises(BatchValidationError) as info:
        run_import(seeded, admin, [("line 7", changed)])
    assert "line 7, field source_order_id: conflict" in str(info.value)
    with seeded.sessions() as session:
        assert session.scalar(select(Order.discount_cents)) == 0


def test_a_batch_with_one_bad_record_stores_nothing(seeded: Runtime, admin: Actor, order):
    bad = order("2", store="NOPE")
    with pytest.raises(BatchValidationError):
        run_import(seeded, admin, [("r1", order("1")), ("r2", bad), ("r3", order("3"))])
    assert counts(seeded)["orders"] == 0


def test_skip_invalid_loads_the_good_and_reports_the_bad(seeded: Runtime, admin: Actor, order):
    rejected: list[tuple[str, str]] = []
    report = run_import(
        seeded,
        admin,
        [("r1", order("1")), ("r2", order("2", store="NOPE")), ("r3", order("3"))],
        skip_invalid=True,
        reject=lambda loc, data, err: rejected.append((loc, err.field)),
    )
    assert report.orders_created == 2 and report.rejected == 1
    assert rejected == [("r2", "store_code")]


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"store_code": "XX999"}, "store_code", "is not a known store"),
        (
            {"lines": [{"sku": "NOPE", "quantity": 1, "unit_price_cents": 100}]},
            "lines[1].sku",
            "is not a known item",
        ),
        (
            {"lines": [{"sku": "BR001", "quantity": 0, "unit_price_cents": 100}]},
            "lines[1].quantity",
            "must be at least 1",
        ),
        (
            {"lines": [{"sku": "BR001", "quantity": -2, "unit_price_cents": 100}]},
            "lines[1].quantity",
            "must be at least 1",
        ),
        (
            {"lines": [{"sku": "BR001", "quantity": 1, "unit_price_cents": 12.5}]},
            "lines[1].unit_price_cents",
            "whole number",
        ),
        ({"total_cents": 1}, "total_cents", "does not add up"),
        ({"ordered_at": "yesterday"}, "ordered_at", "ISO 8601"),
        ({"channel": "fax"}, "channel", "must be one of"),
        ({"lines": []}, "lines", "non-empty"),
        # An unusable phone or email is a warning, not an error (see below).
        ({"customer": {"birthday": "last spring"}}, "customer.birthday", "ISO date"),
        ({"customer": {"gender": "x"}}, "customer.gender", "male, female"),
        ({"customer": {"birthday": "1990-13-45"}}, "customer.birthday", "ISO date"),
        ({"customer": {"shoe_size": 42}}, "customer.shoe_size", "not a known field"),
    ],
)
def test_bad_input_names_record_field_and_reason(
    seeded: Runtime, admin: Actor, order, change: dict[str, Any], field: str, reason: str
):
    bad = {**order("1"), **change}
    if "lines" in change and "total_cents" not in change:
        bad["total_cents"] = sum(
            ln["quantity"] * ln["unit_price_cents"]
            for ln in bad["lines"]
            if isinstance(ln["unit_price_cents"], int)
        )
    with pytest.raises(BatchValidationError) as info:
        run_import(seeded, admin, [("orders.csv line 17", bad)])
    error = info.value.errors[0]
    assert (error.record, error.field) == ("orders.csv line 17", field)
    assert reason in error.reason


def test_order_with_a_malformed_phone_is_stored_with_its_card_and_a_warning(
    seeded: Runtime, admin: Actor, order
):
    bad = order("1", customer={"phone": "138-1234-56789-0", "card_no": "HD77001"})
    warned: list[tuple[str, str]] = []
    report = run_import(
        seeded, admin, [("row 17", bad)], warn=lambda rec, _d, e: warned.append((rec, e.field))
    )
    assert (report.orders_created, report.rejected, report.warnings) == (1, 0, 1)
    assert warned == [("row 17", "customer.phone")]
    message = json.dumps(report.to_dict())
    assert "customer.phone" in message and "ignored" in message
    assert "1234" not in message and "56789" not in message
    # The card beside the bad phone still found its member.
    assert report.members_created == 1 and report.unattached_orders == 0


def test_order_with_only_an_unusable_email_is_stored_unattached(
    seeded: Runtime, admin: Actor, order
):
    report = run_import(seeded, admin, [("r1", order("1", customer={"email": "x@@y"}))])
    assert (report.orders_created, report.unattached_orders, report.warnings) == (1, 1, 1)
    assert report.warning_details[0].field == "customer.email"


def test_a_consent_with_a_malformed_phone_is_still_rejected(seeded: Runtime, admin: Actor):
    consent = {
        "record_type": "consent",
        "source": "app",
        "channel": "app",
        "customer": {"phone": "12"},
        "purpose": "marketing",
        "granted": True,
        "at": "2026-03-01T18:30:00+08:00",
        "notice_version": "v1",
    }
    with pytest.raises(BatchValidationError) as info:
        run_import(seeded, admin, [("r1", consent)])
    assert info.value.errors[0].field == "customer.phone"


def test_time_without_offset_is_read_in_the_store_timezone(seeded: Runtime, admin: Actor, order):
    run_import(seeded, admin, [("r1", order("1", at="2026-03-01T18:30:00"))])
    with seeded.sessions() as session:
        stored = session.scalars(select(Order)).one()
        assert stored.utc_offset_minutes == 480
        assert stored.ordered_at.isoformat() == "2026-03-01T10:30:00+00:00"
        assert stored.meal_type == "dinner"


def test_modifiers_are_stored_normalised(seeded: Runtime, admin: Actor, order):
    run_import(seeded, admin, [("r1", order("1"))])
    with seeded.sessions() as session:
        modifiers = session.scalars(select(OrderLine.modifiers).order_by(OrderLine.line_no))
        assert list(modifiers) == [["no onions"], []]


def test_refund_before_its_order_is_linked_when_the_order_arrives(
    seeded: Runtime, admin: Actor, order
):
    refund = {
        "record_type": "refund",
        "source": "pos",
        "source_refund_id": "R1",
        "source_order_id": "1",
        "refunded_at": "2026-03-02T10:00:00+08:00",
        "amount_cents": 500,
        "reason": "cold broth",
    }
    run_import(seeded, admin, [("r1", refund)])
    run_import(seeded, admin, [("r2", order("1"))])
    with seeded.sessions() as session:
        adjustment = session.scalars(select(OrderAdjustment)).one()
        assert adjustment.order_id is not None and adjustment.member_id is not None


def test_refund_larger_than_the_order_is_refused(seeded: Runtime, admin: Actor, order):
    run_import(seeded, admin, [("r1", order("1"))])
    refund = {
        "record_type": "refund",
        "source": "pos",
        "source_refund_id": "R1",
        "source_order_id": "1",
        "refunded_at": "2026-03-02T10:00:00+08:00",
        "amount_cents": 10**6,
    }
    with pytest.raises(BatchValidationError) as info:
        run_import(seeded, admin, [("r2", refund)])
    assert info.value.errors[0].field == "amount_cents"


# ---------------------------------------------------------------------------- files
def test_jsonl_csv_and_parquet_load_the_same_orders(
    seeded: Runtime, admin: Actor, order, tmp_path: Path
):
    orders = [order(str(i), customer={"card_no": f"HD{i}"}) for i in range(5)]
    jsonl = write_jsonl(tmp_path / "o.jsonl", orders)
    csv_file = write_csv(tmp_path / "o.csv", orders)
    rows = [row for o in orders for row in flatten(o)]
    for row in rows:
        for column in (
            "party_size",
            "discount_cents",
            "total_cents",
            "quantity",
            "unit_price_cents",
        ):
            row[column] = int(row[column]) if row[column] != "" else None
    parquet = tmp_path / "o.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    parsed = [[rec for _loc, rec in read_records(path)] for path in (jsonl, csv_file, parquet)]
    for records in parsed:
        assert not any(isinstance(r, ValidationError) for r in records)
    first = run_import(seeded, admin, list(read_records(jsonl)))
    again_csv = run_import(seeded, admin, list(read_records(csv_file)))
    again_parquet = run_import(seeded, admin, list(read_records(parquet)))
    assert first.orders_created == 5
    assert again_csv.duplicates == again_parquet.duplicates == 5


def test_empty_file_is_refused(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ValidationError, match="empty"):
        list(read_records(empty))


def test_non_utf8_file_is_refused_with_its_line(tmp_path: Path, order):
    path = tmp_path / "latin.jsonl"
    path.write_bytes(json.dumps(order("1")).encode() + b"\n" + b'{"name": "caf\xe9"}\n')
    with pytest.raises(ValidationError) as info:
        list(read_records(path))
    assert "line 2" in info.value.record and "UTF-8" in info.value.reason


def test_truncated_csv_is_reported(tmp_path: Path, order):
    path = write_csv(tmp_path / "cut.csv", [order("1"), order("2")])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    results = list(read_records(path))
    errors = [r for _loc, r in results if isinstance(r, ValidationError)]
    assert errors and "truncated" in errors[-1].reason


def test_csv_with_an_unclosed_quote_is_reported(tmp_path: Path):
    path = tmp_path / "q.csv"
    path.write_text('source,source_order_id,sku\npos,1,"BR001\npos,2,BR001\n', "utf-8")
    with pytest.raises(ValidationError, match="truncated"):
        list(read_records(path))


def test_large_file_streams_in_bounded_memory(seeded: Runtime, admin: Actor, order, tmp_path: Path):
    path = tmp_path / "big.jsonl"
    n = 6000
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(json.dumps(order(str(i), customer={"card_no": f"HD{i}"})) + "\n")
    tracemalloc.start()
    report = run_import(seeded, admin, read_records(path), chunk_size=500)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.orders_created == n
    # Whole-file loading would hold every parsed order; chunks keep the peak small.
    assert peak < 40 * 1024 * 1024, peak


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("memberops")
    return subprocess.run(
        [str(exe), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


# Runs the real `memberops import orders` in its own process, reporting how many orders
# its open transaction holds after the first chunk, then holding that transaction open
# until it is killed: the kill lands after rows were written, never before or after commit.
KILL_SPY = """
import sys, time
from pathlib import Path
from sqlalchemy import func, select
import memberops.orders.service as orders_service
from memberops.orders.models import Order

marker = Path(sys.argv[1])
real_ingest = orders_service.ingest

def ingest(session, *args, on_progress=None, **kwargs):
    def after_chunk(n):
        if on_progress is not None:
            on_progress(n)
        written = session.scalar(select(func.count()).select_from(Order))
        marker.with_suffix(".tmp").write_text(str(written))
        marker.with_suffix(".tmp").rename(marker)
        time.sleep(600)
    return real_ingest(session, *args, on_progress=after_chunk, **kwargs)

orders_service.ingest = ingest
from memberops.cli.main import app
app(sys.argv[2:], prog_name="memberops")
"""


def test_killed_import_leaves_nothing_and_the_rerun_completes(
    seeded: Runtime, admin: Actor, order, tmp_path: Path, settings: Any
):
    path = tmp_path / "kill.jsonl"
    n = 3000  # the CLI writes 2,500 per chunk: the kill comes with the second unread
    write_jsonl(path, [order(str(i), customer={"card_no": f"HD{i}"}) for i in range(n)])
    env = {
        **os.environ,
        "MEMBEROPS_HOME": str(settings.home),
        "MEMBEROPS_DATABASE_URL": settings.database_url,
    }
    spy = tmp_path / "kill_spy.py"
    spy.write_text(KILL_SPY, "utf-8")
    marker = tmp_path / "written"
    process = subprocess.Popen(
        [sys.executable, str(spy), str(marker), "import", "orders", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            if process.poll() is not None:
                assert process.stderr is not None
                raise AssertionError(f"the import ended first: {process.stderr.read()!r}")
            assert time.monotonic() < deadline, "the import wrote nothing in time"
            time.sleep(0.05)
        # Proof that the killed transaction had written rows: the first chunk, in full.
        assert int(marker.read_text()) == 2500
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
    assert counts(seeded) == {"orders": 0, "lines": 0, "adjustments": 0}
    done = _cli("import", "orders", str(path), "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["orders_created"] == n
    again = _cli("import", "orders", str(path), "--json", env=env)
    assert json.loads(again.stdout)["duplicates"] == n
    assert counts(seeded) == {"orders": n, "lines": 2 * n, "adjustments": 0}


def test_cli_skip_invalid_writes_a_private_reject_file(
    seeded: Runtime, order, tmp_path: Path, settings: Any
):
    path = write_jsonl(tmp_path / "mixed.jsonl", [order("1"), order("2", store="NOPE"), order("3")])
    env = {
        **os.environ,
        "MEMBEROPS_HOME": str(settings.home),
        "MEMBEROPS_DATABASE_URL": settings.database_url,
    }
    failed = _cli("import", "orders", str(path), env=env)
    assert failed.returncode == 65
    assert "mixed.jsonl line 2, field store_code: is not a known store" in failed.stderr
    assert counts(seeded)["orders"] == 0
    loaded = _cli("import", "orders", str(path), "--skip-invalid", "--json", env=env)
    result = json.loads(loaded.stdout)
    assert result["orders_created"] == 2 and result["rejected"] == 1
    reject_file = Path(result["reject_file"])
    assert oct(reject_file.stat().st_mode & 0o777) == "0o600"
    rejected = [json.loads(line) for line in reject_file.read_text().splitlines()]
    assert rejected[0]["field"] == "store_code"
