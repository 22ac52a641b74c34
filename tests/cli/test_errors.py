"""No command prints a traceback unless asked (`--debug`); files in GBK are named and
read; unusable contact details are warnings, written to the reject/warning file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memberops.runtime import Runtime

Cli = Callable[..., Any]


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("blind index 9f86d081884c7d65 in the message")


def test_an_unexpected_error_is_one_line_without_its_text_unless_debug(
    seeded: Runtime, cli: Cli, tmp_path: Path, order: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "orders.jsonl"
    file.write_text(json.dumps(order("1")) + "\n")
    monkeypatch.setattr("memberops.orders.cli.ingest", _boom)
    plain = cli("import", "orders", str(file))
    assert plain.exit_code == 70
    assert "internal error (RuntimeError); run with --debug" in plain.stderr
    assert "Traceback" not in plain.output and "9f86d081" not in plain.output
    debug = cli("--debug", "import", "orders", str(file))
    assert debug.exit_code == 70
    assert "Traceback" in debug.stderr


def test_an_unreachable_database_says_so_and_exits_75(cli: Cli, tmp_path: Path) -> None:
    result = cli("audit", "verify", env={"MEMBEROPS_DATABASE_URL": f"sqlite:///{tmp_path}"})
    assert result.exit_code == 75, result.output
    assert "not reachable" in result.stderr
    assert "Traceback" not in result.output


def test_a_gb18030_file_is_named_then_read_with_encoding(
    seeded: Runtime, cli: Cli, tmp_path: Path, order: Any
) -> None:
    file = tmp_path / "orders.jsonl"
    record = order("1", customer={"phone": "13812345678", "name": "张伟"})
    file.write_bytes((json.dumps(record, ensure_ascii=False) + "\n").encode("gb18030"))
    refused = cli("import", "orders", str(file))
    assert refused.exit_code == 65
    assert "is not valid UTF-8 text" in refused.stderr
    assert "--encoding gb18030" in refused.stderr
    loaded = cli("import", "orders", str(file), "--encoding", "gb18030", "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout)["orders_created"] == 1


def test_an_unusable_phone_is_a_warning_in_the_summary_and_the_file(
    seeded: Runtime, cli: Cli, tmp_path: Path, order: Any
) -> None:
    file = tmp_path / "orders.jsonl"
    bad = order("1", customer={"phone": "12", "card_no": "HD1"})
    file.write_text(json.dumps(bad) + "\n" + json.dumps(order("2")) + "\n")
    result = cli("import", "orders", str(file))
    assert result.exit_code == 0, result.output
    assert "1 records stored without an unusable phone or email" in result.stdout
    rows = [json.loads(line) for line in Path(f"{file}.rejects.jsonl").read_text().splitlines()]
    assert [(r["record"], r["field"], r["kind"]) for r in rows] == [
        ("orders.jsonl line 1", "customer.phone", "warning")
    ]
    assert json.loads(cli("import", "orders", str(file), "--json").stdout)["duplicates"] == 2
