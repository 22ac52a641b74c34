"""The command line refuses bad input clearly: named field, reason, exit code, no value."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memberops.runtime import Runtime

Cli = Callable[..., Any]
UNKNOWN_ID = "0" * 26


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (("members", "show", "13800000000"), 66, "no member matches"),
        (("members", "export", UNKNOWN_ID), 66, "not found"),
        (("members", "erase", UNKNOWN_ID, "--reason", "request 1"), 66, "not found"),
        (("identity", "unmerge", UNKNOWN_ID), 66, "not found"),
        (("identity", "merge", UNKNOWN_ID, "--reason", "same"), 75, "two different members"),
        (("identity", "merge", UNKNOWN_ID, "1" * 26, "--reason", "same"), 66, "not found"),
        (
            ("identity", "resolve", UNKNOWN_ID, "--decision", "merge", "--note", "x"),
            66,
            "not found",
        ),
        (("consent", "grant", UNKNOWN_ID, "marketing"), 66, "not found"),
        (("apikeys", "create", "--name", "x", "--role", "root"), 65, "field role"),
        (("apikeys", "create", "--name", "x", "--role", "member"), 65, "field member_id"),
        (("audit", "show"), 65, "give one of them"),
    ],
)
def test_bad_arguments_get_a_named_reason_and_an_exit_code(
    seeded: Runtime, cli: Cli, args: tuple[str, ...], exit_code: int, message: str
) -> None:
    result = cli(*args)
    assert result.exit_code == exit_code, result.output
    assert message in result.output


def test_errors_in_json_mode_use_the_api_error_shape(seeded: Runtime, cli: Cli) -> None:
    result = cli("members", "erase", UNKNOWN_ID, "--reason", "r", "--json")
    assert result.exit_code == 66
    assert json.loads(result.stdout) == {
        "error": "not_found",
        "message": f"member {UNKNOWN_ID} not found",
    }


def test_a_hostile_query_cannot_forge_terminal_output(seeded: Runtime, cli: Cli) -> None:
    result = cli("identity", "unmerge", "x\n\x1b[31mFAKE OK")
    assert result.exit_code == 66
    assert "\x1b" not in result.output and "\nFAKE" not in result.output


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"source,source_order_id,sku\n", "no rows"),
        (b"{not json}\n", "is not valid JSON"),
        (b"[1, 2]\n", "must be a JSON object"),
    ],
)
def test_unreadable_import_files_are_refused_and_nothing_is_stored(
    seeded: Runtime, cli: Cli, tmp_path: Path, content: bytes, reason: str
) -> None:
    suffix = ".csv" if content.startswith(b"source") else ".jsonl"
    path = tmp_path / f"in{suffix}"
    path.write_bytes(content)
    result = cli("import", "orders", str(path))
    assert result.exit_code == 65
    assert reason in result.output
    assert cli("identity", "report", "--json").exit_code == 0
    assert json.loads(cli("identity", "report", "--json").stdout)["orders"] == 0


def test_a_missing_file_and_an_unknown_format_are_named(
    seeded: Runtime, cli: Cli, tmp_path: Path
) -> None:
    missing = cli("import", "orders", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 65 and "file not found" in missing.output
    odd = tmp_path / "orders.xlsx"
    odd.write_bytes(b"x")
    unknown = cli("import", "orders", str(odd))
    assert unknown.exit_code == 65 and "unknown file type" in unknown.output


def test_rotation_with_keys_from_the_environment_asks_for_the_new_keys_there(
    seeded: Runtime, cli: Cli
) -> None:
    keys = json.dumps(seeded.keyring.to_material())
    result = cli("keys", "rotate", env={"MEMBEROPS_KEYS": keys})
    assert result.exit_code == 65
    assert "--resume" in result.output
