"""Build the label guard's shipped pinyin index (the clause model: scripts/guard_train.py).

Usage: ``uv run python scripts/guard_build.py`` (deterministic; rewrites
src/memberops/labels/guard_data/pinyin_index.json). The clause model is fitted by
scripts/guard_train.py (rerun it after this script: it trains on the guard's readings).

The pinyin index maps the toneless pinyin of every Chinese word of the guard's word
lists (pypinyin) to the word, so the guard reads "xiao pang" as 小胖 without importing
pypinyin at run time (importing it costs most of a second).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pypinyin import lazy_pinyin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from memberops.labels.guard_text import read_word_file  # noqa: E402

GUARD_DATA = ROOT / "src" / "memberops" / "labels" / "guard_data"
WORD_LISTS = ("forbidden_zh.txt", "sensitive_zh.txt", "service_zh.txt")
# A reading shared by a description and a need (bao bao: 包包 or 宝宝; men: 闷 or 门) is
# read as an unknown word: neither stored as a need nor refused, a manager decides.
AMBIGUOUS = "□"


def pinyin_index() -> dict[str, str]:
    """Space-joined toneless pinyin → the list word with that reading (or AMBIGUOUS)."""
    index: dict[str, str] = {}
    kind: dict[str, str] = {}
    for name in WORD_LISTS:
        for word in read_word_file(name):
            if word and all("\u4e00" <= c <= "\u9fff" for c in word):
                key = " ".join(s.replace("ü", "v") for s in lazy_pinyin(word))
                this = "service" if name == "service_zh.txt" else "person"
                if key not in index:
                    index[key], kind[key] = word, this
                elif kind[key] != this:
                    index[key] = AMBIGUOUS
    return dict(sorted(index.items()))


def main() -> None:
    """Write the pinyin index (and the classifier, when its trainer is present)."""
    path = GUARD_DATA / "pinyin_index.json"
    path.write_text(
        json.dumps(pinyin_index(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    print(f"{path.name}: written")


if __name__ == "__main__":
    main()
