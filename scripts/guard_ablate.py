"""What each part of the label guard adds: score a corpus with one part switched off.

Usage: ``uv run python scripts/guard_ablate.py tests/labels/data/guard_blind1.jsonl``

Parts: OpenCC (Traditional → Simplified), pinyin reading, jieba segmentation (off:
one character a word), the clause model (off: a need with unknown words always goes to
review), the incident-object rule (a hair in the soup, sauce on a sleeve), the trait rule
(taste or temperature words after a person and a degree word: "人很冷"), the
near-the-line review (a describing word beside an event, a remedy, a bill or a request
goes to review instead of refusal), the service-need recognition (off: the lexicon alone
decides, which is the guard as it was before), and the lexicon (off: recognition alone).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from memberops.labels import guard, guard_lexicon
from memberops.labels.guard_metrics import score_rows


@contextmanager
def _patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def _lexicon_only(text: str) -> Any:
    return guard_lexicon.screen(text)


def _no_lexicon(text: str) -> Any:
    empty = guard_lexicon.Screening(text, "allow", (), (), text, ())
    with _patched(guard.guard_lexicon, "screen", lambda _t: empty):
        return guard.screen(text)


def main() -> None:
    """Print held/refused/review rates for the full guard and each ablation."""
    path = Path(sys.argv[1])
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    tools = guard.load_guard().text
    variants: dict[str, Callable[[], dict[str, Any]]] = {}

    def run(screen: Callable[[str], Any] = guard.screen) -> dict[str, Any]:
        report = score_rows(rows, screen)
        keys = (
            "forbidden_held_rate",
            "legit_refused_rate",
            "legit_review_rate",
            "sensitive_held_rate",
        )
        return {k: report[k] for k in keys} | {
            "sensitive_stored_without_consent": report["sensitive_vs_forbidden"][
                "sensitive_stored_without_consent"
            ]
        }

    variants["full guard"] = run
    out: dict[str, Any] = {"full guard": run()}
    with _patched(type(tools), "simplify", lambda _self, text: text):
        out["without OpenCC"] = run()
    with _patched(guard, "_reading", lambda _g, clause: clause):
        out["without pinyin"] = run()
    with _patched(type(tools), "segment", lambda _self, clause: [c for c in clause if c.strip()]):
        out["without jieba (characters)"] = run()
    with _patched(guard, "load_model", lambda: None):
        out["without clause model"] = run()
    with _patched(guard, "_INCIDENT_OBJECT", re.compile(r"(?!)")):
        out["without incident objects"] = run()
    with _patched(guard, "_trait_of_person", lambda _g, _reading: False):
        out["without the trait rule"] = run()
    with _patched(guard, "_near_the_line", lambda _n, _r, _f: False):
        out["without the near-the-line review"] = run()
    out["lexicon only (before)"] = run(_lexicon_only)
    out["recognition only (no lexicon)"] = run(_no_lexicon)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
