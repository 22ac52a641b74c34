"""The guard against notes it was not built on: the blind split of the corpus.

The blind notes (guard_blind.jsonl, from fragments_blind10/) are composed only from clauses
written after the previous blind split was scored and before the guard was changed again;
earlier blind splits are folded into development (guard_blind1..9.jsonl keep them as they
were scored). The figures are in docs/labels.md; the expected failures below record where
the guard misses its targets on notes it was not built on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memberops.labels.guard import screen
from memberops.labels.guard_metrics import score_rows

DATA = Path(__file__).parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def blind() -> dict[str, Any]:
    return score_rows(_rows("guard_blind.jsonl"), screen)


def test_corpus_has_two_thousand_notes_in_every_language_and_class() -> None:
    rows = _rows("guard_dev.jsonl") + _rows("guard_blind.jsonl")
    assert len(rows) >= 2000
    assert len(_rows("guard_blind.jsonl")) >= 900
    assert {r["lang"] for r in rows} == {"zh", "zt", "en", "py", "mx"}
    assert {r["expected"] for r in rows} == {"allow", "reject", "sensitive"}
    # Clauses never cross pools; a few pinyin spellings of different characters coincide.
    dev = {r["text"] for r in _rows("guard_dev.jsonl")}
    assert len(dev & {r["text"] for r in _rows("guard_blind.jsonl")}) <= 20


def test_blind_forbidden_notes_are_refused_or_held_for_review(blind: dict[str, Any]) -> None:
    assert blind["forbidden_held_rate"] >= 0.99


def test_blind_sensitive_needs_are_never_stored_without_consent(blind: dict[str, Any]) -> None:
    assert blind["sensitive_vs_forbidden"]["sensitive_stored_without_consent"] == 0


def test_blind_legitimate_notes_are_almost_never_refused(blind: dict[str, Any]) -> None:
    assert blind["legit_refused_rate"] <= 0.01


def test_blind_sensitive_needs_are_held_for_consent_with_their_category(
    blind: dict[str, Any],
) -> None:
    assert blind["sensitive_held_rate"] == 1.0


@pytest.mark.parametrize(
    ("note", "verdict"),
    [
        ("xiao pang", "reject"),
        ("國字臉", "reject"),
        ("expecting? no cold drinks", "review"),
        ("found a hair in the broth last time, comped the dish", "allow"),
        ("prefers a quiet booth", "allow"),
        ("bu yao xiang cai", "allow"),
        ("客人说怀孕了，不要生冷", "sensitive"),
        ("大学生模样别推贵的", "reject"),
    ],
)
def test_issue_examples(note: str, verdict: str) -> None:
    assert screen(note).verdict == verdict


def test_a_refused_note_suggests_its_acceptable_part() -> None:
    result = screen("round face, 不要香菜")
    assert result.verdict == "reject"
    assert result.remainder == "不要香菜"
