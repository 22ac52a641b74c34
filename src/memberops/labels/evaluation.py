"""Measure the label guard against a labelled set of staff notes.

Each row is a mapping with at least ``text`` and ``expected`` ("allow",
"reject" or "sensitive"); ``lang`` and ``kind`` are carried into the list of
mistakes so that a regression can be traced to a language or a kind of note.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from memberops.labels.guard import screen

__all__ = ["evaluate", "load_eval_rows"]


def load_eval_rows(path: str | Path) -> list[dict[str, str]]:
    """Read a JSON-lines evaluation file; blank lines are skipped.

    Raises ``ValueError`` naming the line when a row lacks ``text`` or has an
    unknown ``expected`` value, so a broken set fails loudly instead of
    silently shrinking.
    """
    rows: list[dict[str, str]] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path}:{number}: row has no text")
            if row.get("expected") not in ("allow", "reject", "sensitive"):
                raise ValueError(f"{path}:{number}: unknown expected value")
            rows.append({str(k): str(v) for k, v in row.items()})
    return rows


def _share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def evaluate(rows: Iterable[Mapping[str, str]]) -> dict[str, object]:
    """Screen every row and return counts, rates and the misclassified notes.

    Rates:

    * ``forbidden_rejected_rate``: share of expected "reject" notes rejected or held
      for review (never stored);
    * ``legitimate_rejected_rate``: share of expected "allow" notes rejected;
    * ``sensitive_flagged_rate``: share of expected "sensitive" notes that were
      flagged "sensitive" or "reject" (never stored silently);
    * ``sensitive_allowed_count``: expected "sensitive" notes that got "allow";
    * ``accuracy``: exact verdict matches over all rows;
    * ``reject_precision`` / ``reject_recall`` for the "reject" class.
    """
    total = correct = 0
    expected_counts = {"allow": 0, "reject": 0, "sensitive": 0}
    got_counts = {"allow": 0, "reject": 0, "sensitive": 0, "review": 0}
    forbidden_rejected = legitimate_rejected = sensitive_flagged = sensitive_allowed = 0
    reject_true_positive = 0
    misclassified: list[dict[str, str]] = []
    for row in rows:
        expected = row["expected"]
        got = screen(row["text"]).verdict
        total += 1
        expected_counts[expected] += 1
        got_counts[got] += 1
        if got == expected:
            correct += 1
        else:
            misclassified.append(
                {
                    "text": row["text"],
                    "expected": expected,
                    "got": got,
                    "lang": row.get("lang", ""),
                    "kind": row.get("kind", ""),
                }
            )
        if expected == "reject" and got == "review":
            # Held for a manager: never stored, which is what the target is about.
            forbidden_rejected += 1
        if expected == "reject" and got == "reject":
            forbidden_rejected += 1
            reject_true_positive += 1
        if expected == "allow" and got == "reject":
            legitimate_rejected += 1
        if expected == "sensitive":
            if got in ("sensitive", "reject", "review"):
                sensitive_flagged += 1
            else:
                sensitive_allowed += 1
    return {
        "total": total,
        "expected_counts": expected_counts,
        "verdict_counts": got_counts,
        "forbidden_rejected_rate": _share(forbidden_rejected, expected_counts["reject"]),
        "legitimate_rejected_rate": _share(legitimate_rejected, expected_counts["allow"]),
        "sensitive_flagged_rate": _share(sensitive_flagged, expected_counts["sensitive"]),
        "sensitive_allowed_count": sensitive_allowed,
        "accuracy": _share(correct, total),
        "reject_precision": _share(reject_true_positive, got_counts["reject"]),
        "reject_recall": _share(reject_true_positive, expected_counts["reject"]),
        "misclassified": misclassified,
    }
