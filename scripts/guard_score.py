"""Score the label guard on a corpus file and print the figures as JSON.

Usage: ``uv run python scripts/guard_score.py tests/labels/data/guard_blind.jsonl [--misses]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from memberops.labels.guard import screen
from memberops.labels.guard_metrics import score_rows


def main() -> None:
    """Print the score of ``screen`` on the given JSON-lines corpus."""
    path = Path(sys.argv[1])
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    report = score_rows(rows, screen)
    if "--misses" not in sys.argv:
        report.pop("misses")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
