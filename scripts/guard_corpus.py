"""Build the label-guard corpus from the hand-written clause lists.

Usage: ``uv run python scripts/guard_corpus.py`` (deterministic; rewrites the files).

The clause lists in tests/labels/data/fragments/ are written by hand, one clause a line
as ``category|lang|text``. Each clause is assigned once, by a seeded draw, to the
development pool or to the blind pool; notes are composed only from clauses of one
pool, so no blind clause is ever seen while building the guard. Traditional variants
of Simplified clauses come from OpenCC (s2t) and pinyin variants from pypinyin, both
only for the pool the clause already belongs to.

Composed notes follow what staff type: one clause; two or three clauses joined by a
comma, a full-width comma, a semicolon or a space; a forbidden clause hidden between
fine ones; a sensitive need beside a dining need. The note's class is the strongest
clause class: forbidden > sensitive > legitimate.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import opencc
from pypinyin import lazy_pinyin

DATA = Path(__file__).resolve().parents[1] / "tests" / "labels" / "data"
SEED = 20261201

Clause = tuple[str, str, str, str]  # klass, category, lang, text
# Clause lists of earlier blind splits are folded into development once scored.
FOLDED = (
    "fragments",
    "fragments_blind2",
    "fragments_blind3",
    "fragments_blind4",
    "fragments_blind5",
    "fragments_blind6",
    "fragments_blind7",
    "fragments_blind8",
    "fragments_blind9",
)
BLIND = "fragments_blind10"
# Development clauses written during a round, never part of a blind split. Their notes
# are composed with a draw of their own and appended to guard_dev.jsonl, so adding them
# leaves the blind split's composition unchanged.
EXTRA_DEV = ("fragments_dev7", "fragments_dev8", "fragments_dev9", "fragments_dev10")


def _read(klass: str, folder: str = "fragments") -> list[Clause]:
    rows: list[Clause] = []
    for line in (DATA / folder / f"{klass}.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, lang, text = line.split("|", 2)
        rows.append((klass, category, lang, text))
    return rows


def _variants(clause: Clause, s2t: opencc.OpenCC) -> list[Clause]:
    klass, category, lang, text = clause
    out = [clause]
    if lang == "zh":
        trad = s2t.convert(text)
        if trad != text:
            out.append((klass, category, "zt", trad))
        if len(text) <= 5 and all("\u4e00" <= c <= "\u9fff" for c in text):
            out.append((klass, category, "py", " ".join(lazy_pinyin(text))))
    return out


def _key(text: str, t2s: opencc.OpenCC) -> str:
    """A clause as compared for repeats: Simplified, lower case, letters and digits only."""
    return "".join(c for c in t2s.convert(text).lower() if c.isalnum())


def _repeats(blind: list[Clause], earlier: list[Clause], notes: list[str]) -> list[str]:
    """Blind clauses that repeat an earlier clause or note (after OpenCC, case, pinyin)."""
    t2s = opencc.OpenCC("t2s")
    seen: set[str] = set()
    for text in [c[3] for c in earlier] + notes:
        key = _key(text, t2s)
        seen.update({key, "".join(lazy_pinyin(key))})
    out = []
    for clause in blind:
        key = _key(clause[3], t2s)
        if key in seen or "".join(lazy_pinyin(key)) in seen:
            out.append(clause[3])
    return out


def _join(rng: random.Random, parts: list[str]) -> str:
    cjk = all(any("\u4e00" <= c <= "\u9fff" for c in p) for p in parts)
    sep = rng.choice(["，", "，", " ", "；"] if cjk else [", ", ", ", "; ", " - "])
    return sep.join(parts)


def _lang(clauses: list[Clause]) -> str:
    langs = {c[2] for c in clauses}
    return langs.pop() if len(langs) == 1 else "mixed"


def _note(rng: random.Random, clauses: list[Clause], kind: str, split: str) -> dict[str, str]:
    forbidden = [c for c in clauses if c[0] == "forbidden"]
    sensitive = [c for c in clauses if c[0] == "sensitive"]
    if forbidden:
        expected, category = "reject", forbidden[0][1]
    elif sensitive:
        expected, category = "sensitive", sensitive[0][1]
    else:
        expected, category = "allow", clauses[0][1]
    return {
        "text": _join(rng, [c[3] for c in clauses]),
        "expected": expected,
        "category": category,
        "lang": "mx" if _lang(clauses) == "mixed" else _lang(clauses),
        "kind": kind,
        "split": split,
    }


def _compose(rng: random.Random, pool: dict[str, list[Clause]], split: str, scale: int) -> list:
    notes: list[dict[str, str]] = []
    for klass in ("forbidden", "legit", "sensitive"):
        notes.extend(_note(rng, [c], "single", split) for c in pool[klass])

    def same_lang(klass: str, lang: str) -> Clause:
        choices = [c for c in pool[klass] if c[2] == lang] or pool[klass]
        return rng.choice(choices)

    for _ in range(scale):
        bad = rng.choice(pool["forbidden"])
        good = same_lang("legit", bad[2])
        notes.append(_note(rng, rng.sample([bad, good], 2), "forbidden+legit", split))
    for _ in range(scale // 2):
        bad = rng.choice(pool["forbidden"])
        parts = [same_lang("legit", bad[2]), bad, same_lang("legit", bad[2])]
        notes.append(_note(rng, parts, "hidden", split))
    for _ in range(scale):
        a = rng.choice(pool["legit"])
        notes.append(_note(rng, [a, same_lang("legit", a[2])], "legit+legit", split))
    for _ in range(scale // 2):
        s = rng.choice(pool["sensitive"])
        notes.append(_note(rng, rng.sample([s, same_lang("legit", s[2])], 2), "sens+legit", split))
    for _ in range(scale // 6):
        s = rng.choice(pool["sensitive"])
        notes.append(_note(rng, [same_lang("forbidden", s[2]), s], "forbidden+sens", split))
    # Mixed-language notes: an English clause beside a Chinese one.
    for _ in range(scale // 4):
        a = rng.choice([c for c in pool["legit"] if c[2] == "en"])
        b = rng.choice(pool[rng.choice(["legit", "forbidden"])])
        notes.append(_note(rng, [a, b], "mixed", split))
    unique: dict[str, dict[str, str]] = {}
    for note in notes:
        unique.setdefault(note["text"], note)
    return list(unique.values())


def main() -> None:
    """Write guard_dev.jsonl and guard_blind.jsonl from the fragment lists.

    Round 1 drew the blind pool from fragments/ (kept as guard_blind1.jsonl, scored once
    before and once after the change); round 2's blind split was fragments_blind2/ (kept
    as guard_blind2.jsonl), rounds 3 and 4 fragments_blind3/ and fragments_blind4/
    (guard_blind3.jsonl, guard_blind4.jsonl), round 5 fragments_blind5/ (guard_blind5.jsonl),
    round 6 fragments_blind6/ (guard_blind6.jsonl), round 7 fragments_blind7/
    (guard_blind7.jsonl), round 8 fragments_blind8/ (guard_blind8.jsonl), round 9
    fragments_blind9/ (guard_blind9.jsonl). All are folded into development; the blind
    split is now composed from fragments_blind10/, written after round 9 was scored.
    A blind clause that repeats an earlier clause or note (after OpenCC, lower case and
    pinyin) stops the build.
    """
    rng = random.Random(SEED)  # noqa: S311 - reproducible corpus, not a secret
    s2t = opencc.OpenCC("s2t")
    pools: dict[str, dict[str, list[Clause]]] = {"dev": {}, "blind": {}}
    for klass in ("forbidden", "legit", "sensitive"):
        pools["dev"][klass] = []
        pools["blind"][klass] = []
        folded = [c for f in FOLDED for c in _read(klass, f)]
        for clause in folded:
            pools["dev"][klass].extend(_variants(clause, s2t))
        for clause in _read(klass, BLIND):
            pools["blind"][klass].extend(_variants(clause, s2t))
    earlier_notes = [
        json.loads(line)["text"]
        for path in sorted(DATA.glob("guard_*.jsonl"))
        if path.name != "guard_blind.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    blind_clauses = [c for k in ("forbidden", "legit", "sensitive") for c in pools["blind"][k]]
    dev_clauses = [c for k in ("forbidden", "legit", "sensitive") for c in pools["dev"][k]]
    repeated = _repeats(blind_clauses, dev_clauses, earlier_notes)
    if repeated:
        raise SystemExit("blind clauses that repeat earlier ones: " + "; ".join(repeated))
    extra: dict[str, list[Clause]] = {
        klass: [v for f in EXTRA_DEV for c in _read(klass, f) for v in _variants(c, s2t)]
        for klass in ("forbidden", "legit", "sensitive")
    }
    t2s = opencc.OpenCC("t2s")
    blind_texts = {_key(c[3], t2s) for c in blind_clauses}
    leaked = [c[3] for k in extra.values() for c in k if _key(c[3], t2s) in blind_texts]
    if leaked:
        raise SystemExit("development clauses that repeat blind ones: " + "; ".join(leaked))
    for split, scale in (("dev", 1200), ("blind", 200)):
        notes = _compose(rng, pools[split], split, scale)
        if split == "dev":
            extra_rng = random.Random(SEED + 7)  # noqa: S311 - reproducible corpus
            # Extra clauses are composed beside every development clause of their class.
            merged = {k: extra[k] + pools["dev"][k] for k in extra}
            seen = {n["text"] for n in notes}
            for note in _compose(extra_rng, merged, split, 300):
                if note["text"] not in seen and any(
                    c[3] in note["text"] for k in extra.values() for c in k
                ):
                    notes.append(note)
        path = DATA / f"guard_{split}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for note in notes:
                handle.write(json.dumps(note, ensure_ascii=False) + "\n")
        print(f"{path.name}: {len(notes)} notes")


if __name__ == "__main__":
    main()
