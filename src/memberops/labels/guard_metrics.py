"""Score the label guard on a labelled corpus: the figures docs/labels.md reports.

A row has ``text``, ``expected`` ("allow", "reject", "sensitive"), ``category`` and
``lang``. What counts, from the product's promise (seed 000):

* a forbidden note is *held* when it is refused or sent to review: it is never stored;
* a legitimate note is *refused* only on "reject"; "review" costs a manager a click;
* a sensitive need is *held for consent* when the verdict is "sensitive", or "review"
  or "reject" with the need named in ``sensitive_categories`` (never stored without
  consent); a sensitive note that is refused as forbidden is counted as confusion.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["score_rows"]


def _rate(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def score_rows(rows: Iterable[Mapping[str, str]], screen: Callable[[str], Any]) -> dict[str, Any]:
    """Screen every row and return the held/refused rates by class, category and language."""
    by_class: Counter[str] = Counter()
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    cat_total: Counter[str] = Counter()
    cat_ok: Counter[str] = Counter()
    lang_tp: Counter[str] = Counter()
    lang_fp: Counter[str] = Counter()
    lang_fn: Counter[str] = Counter()
    lang_legit_refused: Counter[str] = Counter()
    lang_legit: Counter[str] = Counter()
    misses: list[dict[str, str]] = []
    for row in rows:
        expected = row["expected"]
        screening = screen(row["text"])
        verdict = screening.verdict
        held = verdict in ("reject", "review")
        lang = row.get("lang", "")
        key = f"{expected}:{row.get('category', '')}"
        by_class[expected] += 1
        verdicts[expected][verdict] += 1
        cat_total[key] += 1
        if expected == "reject":
            ok = held
            lang_tp[lang] += held
            lang_fn[lang] += not held
        elif expected == "allow":
            ok = verdict != "reject"
            lang_fp[lang] += held
            lang_legit[lang] += 1
            lang_legit_refused[lang] += verdict == "reject"
        else:
            ok = verdict == "sensitive" or (held and bool(screening.sensitive_categories))
            lang_fp[lang] += held and not ok
        cat_ok[key] += ok
        if not ok:
            misses.append({**row, "got": verdict})
    refused_forbidden = verdicts["reject"]["reject"] + verdicts["reject"]["review"]
    sens = verdicts["sensitive"]
    sens_held = sum(cat_ok[k] for k in cat_total if k.startswith("sensitive:"))
    return {
        "total": sum(by_class.values()),
        "by_class": dict(by_class),
        "verdicts": {k: dict(v) for k, v in verdicts.items()},
        "forbidden_held_rate": _rate(refused_forbidden, by_class["reject"]),
        "legit_refused_rate": _rate(verdicts["allow"]["reject"], by_class["allow"]),
        "legit_review_rate": _rate(verdicts["allow"]["review"], by_class["allow"]),
        "sensitive_held_rate": _rate(sens_held, by_class["sensitive"]),
        "sensitive_vs_forbidden": {
            "sensitive_refused_as_forbidden": sens["reject"],
            "sensitive_sent_to_review": sens["review"],
            "sensitive_stored_without_consent": sens["allow"],
            "forbidden_taken_for_sensitive": verdicts["reject"]["sensitive"],
        },
        "by_category": {
            k: {"n": cat_total[k], "ok_rate": _rate(cat_ok[k], cat_total[k])}
            for k in sorted(cat_total)
        },
        "by_lang": {
            lang: {
                "held_precision": _rate(lang_tp[lang], lang_tp[lang] + lang_fp[lang]),
                "held_recall": _rate(lang_tp[lang], lang_tp[lang] + lang_fn[lang]),
                "legit_refused_rate": _rate(lang_legit_refused[lang], lang_legit[lang]),
            }
            for lang in sorted(set(lang_tp) | set(lang_fn) | set(lang_legit))
        },
        "misses": misses,
    }
