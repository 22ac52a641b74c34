"""A chain set up from its own files: `init`, `import stores`, `import catalog`, orders."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memberops.catalog.models import Item, Store
from memberops.config import Settings
from memberops.db import transaction
from memberops.runtime import open_runtime

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
Cli = Callable[..., Any]


def test_a_fresh_chain_starts_from_its_own_stores_and_catalog(
    cli: Cli, tmp_path: Path, settings: Settings
) -> None:
    init = cli("init", "--json")
    assert init.exit_code == 0, init.output
    assert json.loads(init.stdout)["admin_key"].startswith("mo_")
    assert settings.key_file.exists()
    for kind, name in (("stores", "stores.csv"), ("catalog", "catalog.jsonl")):
        result = cli("import", kind, str(EXAMPLES / name), "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["created"] > 0
    orders = cli("import", "orders", str(EXAMPLES / "orders.jsonl"), "--json")
    assert orders.exit_code == 0, orders.output
    assert json.loads(orders.stdout)["orders_created"] == 2
    runtime = open_runtime(settings)
    try:
        with transaction(runtime.sessions) as session:
            assert {s.code for s in session.query(Store)} == {"BJ001", "SH001", "CD001"}
            assert session.query(Item).filter(Item.sku == "DR001").one().active is False
    finally:
        runtime.close()


@pytest.mark.parametrize(
    "kind,csv_name,jsonl_name",
    [
        ("stores", "stores.csv", "stores.jsonl"),
        ("catalog", "catalog.csv", "catalog.jsonl"),
    ],
)
def test_importing_again_changes_nothing(
    cli: Cli, kind: str, csv_name: str, jsonl_name: str
) -> None:
    first = cli("import", kind, str(EXAMPLES / csv_name), "--json")
    assert first.exit_code == 0, first.output
    # The same records in the other format: all unchanged.
    again = json.loads(cli("import", kind, str(EXAMPLES / jsonl_name), "--json").stdout)
    assert again["created"] == again["updated"] == 0
    assert again["unchanged"] == again["records"] > 0


def test_a_changed_store_is_updated(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "stores.csv"
    shutil.copy(EXAMPLES / "stores.csv", file)
    assert cli("import", "stores", str(file)).exit_code == 0
    file.write_text(file.read_text().replace("Chengdu Chunxi Road", "Chengdu Taikoo Li"))
    result = json.loads(cli("import", "stores", str(file), "--json").stdout)
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 2)


HEADER = "code,name,city,region,timezone,opened_on\n"


@pytest.mark.parametrize(
    "body,record,field,reason",
    [
        (HEADER + "BJ001,A,B,C,Mars/Olympus,\n", "line 2", "timezone", "IANA"),
        (HEADER + "BJ001,A,B,C,Asia/Shanghai,2012-13-40\n", "line 2", "opened_on", "date"),
        (HEADER + "BJ 001,A,B,C,Asia/Shanghai,\n", "line 2", "code", "letters"),
        (HEADER + "BJ001,=HYPERLINK(1),B,C,Asia/Shanghai,\n", "line 2", "name", "formula"),
        (HEADER + "BJ001,A\x00B,B,C,Asia/Shanghai,\n", "line 2", "name", "control"),
        (HEADER + "BJ001,A,B,C,Asia/Shanghai\n", "line 2", "-", "columns"),
        (HEADER + "BJ001," + "x" * 500 + ",B,C,Asia/Shanghai,\n", "line 2", "name", "longer"),
        (
            HEADER + "BJ001,A,B,C,Asia/Shanghai,\nBJ001,Other,B,C,Asia/Shanghai,\n",
            "line 3",
            "code",
            "twice",
        ),
        ("code,name,owner\n", "line 1", "owner", "not a known column"),
        (HEADER.replace("\n", "") + ',"unclosed\n', "line", "-", "CSV"),
    ],
)
def test_bad_store_files_are_refused_naming_record_field_and_reason(
    cli: Cli, tmp_path: Path, body: str, record: str, field: str, reason: str
) -> None:
    file = tmp_path / "stores.csv"
    file.write_text(body)
    result = cli("import", "stores", str(file), "--json")
    assert result.exit_code == 65, result.output
    error = json.loads(result.stdout)
    detail = error["details"][0]
    assert record in detail["record"] and detail["field"] == field
    assert reason in detail["reason"]
    assert "HYPERLINK" not in result.stdout and "xxxxxxxx" not in result.stdout
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "line,field,reason",
    [
        ({"sku": "X1", "name": "A", "category": "c", "price_cents": 12.5}, "price_cents", "whole"),
        ({"sku": "X1", "name": "A", "category": "c", "price_cents": -1}, "price_cents", "between"),
        ({"sku": "X1", "name": "A", "category": "c"}, "price_cents", "required"),
        ({"sku": "X1", "name": "A", "category": "c", "price_cents": 1, "x": 1}, "x", "known"),
        ({"sku": "X1", "name": "A", "category": "c", "price_cents": 1, "tags": 3}, "tags", "list"),
        (
            {"sku": "X1", "name": "A", "category": "c", "price_cents": 1, "active": "maybe"},
            "active",
            "true or false",
        ),
    ],
)
def test_bad_catalog_records_are_refused(
    cli: Cli, tmp_path: Path, settings: Settings, line: dict[str, Any], field: str, reason: str
) -> None:
    file = tmp_path / "catalog.jsonl"
    good = {"sku": "OK1", "name": "Fine", "category": "c", "price_cents": 100}
    file.write_text(json.dumps(good) + "\n" + json.dumps(line) + "\n")
    result = cli("import", "catalog", str(file), "--json")
    assert result.exit_code == 65, result.output
    detail = json.loads(result.stdout)["details"][0]
    assert (detail["record"], detail["field"]) == ("catalog.jsonl line 2", field)
    assert reason in detail["reason"]
    # All or nothing: the good record before the bad one was not stored either.
    runtime = open_runtime(settings)
    try:
        with transaction(runtime.sessions) as session:
            assert session.query(Item).count() == 0
    finally:
        runtime.close()


def test_a_gbk_file_is_named_and_read_with_encoding(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "catalog.csv"
    text = "sku,name,name_local,category,price_cents\nBR001,Spicy broth,麻辣牛油锅底,broths,5800\n"
    file.write_bytes(text.encode("gbk"))
    refused = cli("import", "catalog", str(file), "--json")
    assert refused.exit_code == 65
    assert "gb18030" in json.loads(refused.stdout)["message"]
    loaded = cli("import", "catalog", str(file), "--encoding", "gbk", "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout)["created"] == 1
