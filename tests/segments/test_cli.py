"""`memberops segments ...`: the whole cycle from the terminal, clear errors, JSON output."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from segments.conftest import Chain

Cli = Callable[..., Any]


def test_fields_lists_built_ins(cli: Cli, chain: Chain) -> None:
    result = cli("segments", "fields", "--json")
    assert result.exit_code == 0, result.output
    names = {row["name"] for row in json.loads(result.stdout)}
    assert {"visits", "tier", "days_since_last_visit", "consent(text)"} <= names


def test_preview_create_materialise_history_export(cli: Cli, chain: Chain, tmp_path: Path) -> None:
    preview = cli("segments", "preview", 'visits >= 3 and consent("marketing")', "--json")
    assert preview.exit_code == 0, preview.output
    assert json.loads(preview.stdout)["count"] == 2

    created = cli("segments", "create", "lapsing", "days_since_last_visit > 30", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["version"] == 1

    run = cli("segments", "materialise", "lapsing", "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout) | {"at": None} == {
        "at": None,
        "version": 1,
        "entered": 1,
        "left": 0,
        "size": 1,
    }
    listed = cli("segments", "list")
    assert "lapsing" in listed.stdout
    shown = cli("segments", "show", "lapsing", "--json")
    assert json.loads(shown.stdout)["size"] == 1
    history = cli("segments", "history", "lapsing", "--json")
    assert len(json.loads(history.stdout)["runs"]) == 1

    out = tmp_path / "lapsing.csv"
    exported = cli("segments", "export", "lapsing", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert len(rows) == 1 and rows[0]["member"].startswith("p_")
    assert chain.black_lapsed not in out.read_text()
    parquet = tmp_path / "lapsing.parquet"
    assert cli("segments", "export", "lapsing", "--out", str(parquet)).exit_code == 0
    assert pq.read_table(parquet).num_rows == 1


def test_errors_are_one_line_without_traceback(cli: Cli, chain: Chain, tmp_path: Path) -> None:
    bad = cli("segments", "preview", "vists > 3")
    assert bad.exit_code != 0
    text = " ".join(bad.output.split())  # the console wraps long lines
    assert "column 1: unknown field 'vists' (did you mean 'visits'?)" in text
    assert "Traceback" not in bad.output
    missing = cli("segments", "materialise", "nope")
    assert missing.exit_code != 0 and "segment not found" in missing.output
    assert cli("segments", "create", "a", "visits > 1").exit_code == 0
    wrong = cli("segments", "export", "a", "--out", str(tmp_path / "a.xlsx"))
    assert wrong.exit_code != 0 and ".csv or .parquet" in " ".join(wrong.output.split())
