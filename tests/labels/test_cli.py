"""`memberops labels screen` (pure, batch JSON lines) and `memberops labels scan`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from memberops.config import Settings
from memberops.db import new_id, transaction
from memberops.labels.cli import SCREEN_REJECTED, app
from memberops.labels.models import Label, LabelEvent
from memberops.members.models import Member
from memberops.runtime import open_runtime

runner = CliRunner()
KEYS = {"text", "verdict", "reasons", "spans", "remainder"}


def test_screen_batch_writes_one_json_object_per_input_line() -> None:
    notes = [
        "no onions in the spicy hot pot",
        "1.68 m, glasses, long hair, big round face",
        "花生过敏",
        "",
        "20-30岁，安静，不吃胡萝卜",
    ]
    result = runner.invoke(app, ["screen", "-"], input="\n".join(notes) + "\n")
    assert result.exit_code == SCREEN_REJECTED, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(notes)
    rows = [json.loads(line) for line in lines]
    for note, row in zip(notes, rows, strict=True):
        assert set(row) >= KEYS
        assert row["text"] == note
    assert [r["verdict"] for r in rows] == ["allow", "reject", "sensitive", "allow", "reject"]
    assert rows[4]["remainder"] == "不吃胡萝卜"
    span = rows[1]["spans"][0]
    assert set(span) == {"start", "end", "category", "text"}
    assert notes[1][span["start"] : span["end"]] == span["text"]


def test_screen_batch_handles_windows_line_ends_and_no_final_newline() -> None:
    result = runner.invoke(app, ["screen", "-"], input="no onions\r\nice in lemon juice")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["no onions", "ice in lemon juice"]


def test_screen_single_note_json() -> None:
    result = runner.invoke(app, ["screen", "--json", "loves to report us on the app"])
    assert result.exit_code == SCREEN_REJECTED, result.output
    row = json.loads(result.stdout)
    assert row["verdict"] == "reject"
    assert set(row) >= KEYS


def test_screen_single_note_human_readable() -> None:
    result = runner.invoke(app, ["screen", "peanut allergy"])
    assert result.exit_code == 0, result.output
    assert "sensitive" in result.stdout
    assert "consent" in result.stdout


def test_screen_needs_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "nowhere"
    monkeypatch.setenv("MEMBEROPS_HOME", str(home))
    monkeypatch.setenv("MEMBEROPS_DATABASE_URL", f"sqlite:///{home / 'm.db'}")
    result = runner.invoke(app, ["screen", "--json", "no onions"])
    assert result.exit_code == 0
    assert not home.exists()


def test_scan_quarantines_and_reports_ids_not_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMBEROPS_HOME", str(tmp_path))
    monkeypatch.setenv("MEMBEROPS_DATABASE_URL", f"sqlite:///{tmp_path / 'm.db'}")
    monkeypatch.delenv("MEMBEROPS_KEYS", raising=False)
    runtime = open_runtime(Settings.from_env())
    forbidden = "20-year-old, goose-egg face, chestnut hair"
    try:
        with transaction(runtime.sessions) as session:
            member = Member(id=new_id())
            session.add(member)
            session.flush()
            ids = {}
            for name, text in (("bad", forbidden), ("good", "loves tomato broth")):
                label_id = new_id()
                session.add(
                    Label(
                        id=label_id,
                        member_id=member.id,
                        category="dining_preference",
                        text_enc=runtime.keyring.encrypt(
                            text, table="labels", column="text_enc", row_id=label_id
                        ),
                        source="import",
                        created_by="import:legacy",
                    )
                )
                ids[name] = label_id
    finally:
        runtime.close()

    result = runner.invoke(app, ["scan", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scanned"] == 2
    assert report["quarantined"] == [ids["bad"]]
    assert report["by_verdict"] == {"allow": 1, "reject": 1}
    assert "chestnut" not in result.stdout and "goose" not in result.stdout

    runtime = open_runtime(Settings.from_env())
    try:
        with transaction(runtime.sessions) as session:
            bad = session.get(Label, ids["bad"])
            assert bad is not None and bad.status == "quarantined"
            events = session.scalars(
                select(LabelEvent.action).where(LabelEvent.label_id == ids["bad"])
            ).all()
            assert events == ["quarantined"]
    finally:
        runtime.close()

    # A second scan finds nothing left to quarantine; the human report names counts.
    again = runner.invoke(app, ["scan"])
    assert again.exit_code == 0, again.output
    assert "scanned 1 labels" in again.stdout
    assert "quarantined 0 labels" in again.stdout


def test_screen_human_output_does_not_interpret_markup_in_notes() -> None:
    result = runner.invoke(app, ["screen", "[bold]round face[/bold]"])
    assert result.exit_code == SCREEN_REJECTED, result.output
    assert "round face" in result.stdout
