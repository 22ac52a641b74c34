"""Text handling for the label guard: script conversion, segmentation and pinyin.

* OpenCC (``t2s``) turns Traditional notes into Simplified, so 國字臉 meets 国字脸;
* jieba segments Chinese clauses with the guard's own word lists (service, forbidden and
  sensitive words), not jieba's 350,000-word dictionary: the guard only needs to know
  whether each word is one it recognises, and a small dictionary loads in milliseconds;
* pypinyin gives every Chinese word of those lists its pinyin, so "xiao pang",
  "xiaopang" or "bu yao xiang cai" are read as 小胖 and 不要香菜. The index is built
  offline (scripts/guard_build.py) and shipped as ``pinyin_index.json``: importing
  pypinyin costs most of a second, the index a few milliseconds.

Everything is built once, on first use, from files inside the package; nothing is
downloaded.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import types
import warnings
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["GuardText", "load_text_tools"]

_DATA = "memberops.labels.guard_data"
_EN_WORD = re.compile(r"[a-z][a-z'\-]*|\d+(?:\.\d+)?")
# A pinyin syllable, toneless (v or u for ü). Loose on purpose: a false syllable only
# matters when the whole clause also spells a word of the lists.
_SYLLABLE = re.compile(
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|in|un|ia|ie|iu"
    r"|ua|uo|ue|ve|ui|er|a|o|e|i|u|v)"
)


def read_word_file(name: str) -> dict[str, str]:
    """Read ``category: words`` (or bare words, category "") lines of a packaged list."""
    words: dict[str, str] = {}
    text = resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        category, sep, rest = line.partition(":")
        if not sep:
            category, rest = "", line
        for word in rest.split():
            words.setdefault(word.lower(), category.strip())
    return words


def _import_jieba() -> Any:
    """Import jieba without its HMM tables (0.5 s of import time on this machine).

    The guard segments with ``HMM=False`` only: a word the lists do not know must stay
    unknown rather than be guessed into a new word. When nothing else has imported jieba
    yet, its ``finalseg`` module is replaced during the import by one that refuses use.
    """
    if "jieba" in sys.modules:
        return sys.modules["jieba"]
    stub = types.ModuleType("jieba.finalseg")

    def _refuse(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("jieba's HMM is not loaded in memberops; segment with HMM=False")

    stub.cut = _refuse  # type: ignore[attr-defined]
    stub.add_force_split = _refuse  # type: ignore[attr-defined]
    sys.modules["jieba.finalseg"] = stub
    try:
        # jieba 0.42 has regex strings with invalid escapes; Python warns when it
        # compiles them, which is jieba's matter, not ours.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            import jieba  # type: ignore[import-untyped]
    finally:
        del sys.modules["jieba.finalseg"]
    jieba.setLogLevel(60)
    return jieba


@dataclass
class GuardText:
    """The loaded tools: converter, segmenter and the pinyin index of the word lists."""

    t2s: Any
    tokenizer: Any
    pinyin_index: dict[tuple[str, ...], str]
    syllables: frozenset[str]
    max_syllables: int

    def simplify(self, text: str) -> str:
        """Traditional → Simplified, keeping the length (offsets point into the note)."""
        converted = str(self.t2s.convert(text))
        if len(converted) == len(text):
            return converted
        return "".join(c2 if len(c2 := str(self.t2s.convert(c))) == 1 else c for c in text)

    def segment(self, clause: str) -> list[str]:
        """Chinese words of a clause (unknown characters come out one by one)."""
        return [w for w in self.tokenizer.cut(clause, HMM=False) if w.strip()]

    def word_spans(self, clause: str) -> list[tuple[str, int, int]]:
        """Chinese words of a clause with their (start, end) offsets in it."""
        return [(w, a, b) for w, a, b in self.tokenizer.tokenize(clause, HMM=False) if w.strip()]

    def _split_syllables(self, word: str) -> list[str] | None:
        out: list[str] = []
        pos = 0
        while pos < len(word):
            # Prefer the longest syllable that the lists use, then any syllable.
            for size in range(min(6, len(word) - pos), 0, -1):
                piece = word[pos : pos + size]
                if piece in self.syllables:
                    break
            else:
                m = _SYLLABLE.match(word, pos)
                if m is None:
                    return None
                piece = m.group(0)
            out.append(piece)
            pos += len(piece)
        return out

    def pinyin_to_hanzi(self, clause: str) -> tuple[str, int] | None:
        """Read an ASCII clause as pinyin: (characters, syllables matched), or None."""
        syllables: list[str] = []
        for word in re.split(r"[\s'\-]+", clause.strip()):
            if not word:
                continue
            if not word.isalpha() or not word.isascii():
                return None
            split = self._split_syllables(word)
            if split is None:
                return None
            syllables.extend(split)
        if not syllables:
            return None
        out: list[str] = []
        matched = pos = 0
        while pos < len(syllables):
            for size in range(min(self.max_syllables, len(syllables) - pos), 0, -1):
                hanzi = self.pinyin_index.get(tuple(syllables[pos : pos + size]))
                if hanzi is not None:
                    out.append(hanzi)
                    matched += size
                    pos += size
                    break
            else:
                out.append("□")
                pos += 1
        return "".join(out), matched


def english_words(clause: str) -> list[str]:
    """Lower-case English words and numbers of a clause."""
    return _EN_WORD.findall(clause)


@cache
def load_text_tools() -> GuardText:
    """Build the converter, the segmenter and the pinyin index (once per process)."""
    import opencc  # loaded with the guard, not when the module is imported

    jieba = _import_jieba()
    words: dict[str, str] = {}
    for name in ("service_zh.txt", "forbidden_zh.txt", "sensitive_zh.txt"):
        words.update({w: c for w, c in read_word_file(name).items() if w not in words})
    tmp = tempfile.mkdtemp(prefix="memberops-jieba-")
    # jieba wants a dictionary file; the guard's own words, one "word frequency" a line.
    dict_path = f"{tmp}/guard.dict"
    with open(dict_path, "w", encoding="utf-8") as handle:
        for word in words:
            if any("\u4e00" <= c <= "\u9fff" for c in word):
                handle.write(f"{word} {100 * len(word)}\n")
    tokenizer = jieba.Tokenizer(dictionary=dict_path)
    tokenizer.tmp_dir = tmp
    tokenizer.initialize()
    index: dict[tuple[str, ...], str] = {}
    syllables: set[str] = set()
    shipped = json.loads(resources.files(_DATA).joinpath("pinyin_index.json").read_text("utf-8"))
    for reading, word in shipped.items():
        key = tuple(reading.split())
        index[key] = word
        syllables.update(key)
    return GuardText(
        t2s=opencc.OpenCC("t2s"),
        tokenizer=tokenizer,
        pinyin_index=index,
        syllables=frozenset(syllables),
        max_syllables=max(len(k) for k in index),
    )
