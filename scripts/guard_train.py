"""Train the guard's clause model on the development clauses; measure what it adds.

Usage:
  uv run python scripts/guard_train.py            # fit on the development clauses and
                                                  # write guard_data/clause_model.json
  uv run python scripts/guard_train.py --measure  # fit without the first blind split's
                                                  # clauses, score guard_blind1.jsonl with
                                                  # and without the model

Only development clauses are used; the current blind split (fragments_blind2/) never is.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import opencc
from scipy import sparse
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import guard_corpus  # noqa: E402

from memberops.labels import guard  # noqa: E402
from memberops.labels.guard_metrics import score_rows  # noqa: E402
from memberops.labels.guard_model import ClauseModel, clause_features  # noqa: E402

BUCKETS = 1 << 14
ORDERS = (1, 2, 3)
L2 = 1.0
OUT = ROOT / "src" / "memberops" / "labels" / "guard_data" / "clause_model.json"


def _samples(clauses: list[guard_corpus.Clause]) -> tuple[list[str], list[int]]:
    s2t = opencc.OpenCC("s2t")
    texts: list[str] = []
    labels: list[int] = []
    for clause in clauses:
        for klass, _category, _lang, text in guard_corpus._variants(clause, s2t):
            readings = guard.clause_readings(text)
            if klass == "forbidden" and len(readings) > 1:
                continue  # which of its clauses describes the person is not labelled
            for reading in readings:
                texts.append(reading)
                labels.append(int(klass == "forbidden"))
    return texts, labels


def fit(texts: list[str], labels: list[int]) -> ClauseModel:
    """L2-regularised logistic regression on hashed n-grams (L-BFGS)."""
    rows, cols = [], []
    for i, text in enumerate(texts):
        for f in clause_features(text, BUCKETS, ORDERS):
            rows.append(i)
            cols.append(f)
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), BUCKETS))
    y = np.asarray(labels, dtype=float)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = x @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        eps = 1e-12
        value = -np.sum(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)) + L2 * w @ w / 2
        grad_z = p - y
        grad = np.concatenate([x.T @ grad_z + L2 * w, [grad_z.sum()]])
        return float(value), grad

    result = minimize(loss, np.zeros(BUCKETS + 1), jac=True, method="L-BFGS-B")
    w = result.x[:-1]
    weights = {int(i): float(w[i]) for i in np.nonzero(np.abs(w) >= 5e-4)[0]}
    return ClauseModel(buckets=BUCKETS, orders=ORDERS, weights_=weights, bias_=float(result.x[-1]))


def _all_clauses() -> list[guard_corpus.Clause]:
    return [c for k in ("forbidden", "legit", "sensitive") for c in guard_corpus._read(k)]


def _round_one_dev_clauses() -> list[guard_corpus.Clause]:
    """Replay round one's seeded draw: the clauses that were not in the first blind split."""
    rng = random.Random(guard_corpus.SEED)  # noqa: S311 - replaying a recorded draw
    kept = []
    for klass in ("forbidden", "legit", "sensitive"):
        for clause in guard_corpus._read(klass):
            if rng.random() >= 0.3:
                kept.append(clause)
    return kept


def _score(path: Path, model: ClauseModel | None) -> dict[str, object]:
    guard.load_model = lambda: model  # type: ignore[assignment]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    report = score_rows(rows, guard.screen)
    keys = ("forbidden_held_rate", "legit_refused_rate", "legit_review_rate", "verdicts")
    return {k: report[k] for k in keys}


def main() -> None:
    """Fit and write the model, or (--measure) report its effect on blind split one."""
    if "--measure" in sys.argv:
        model = fit(*_samples(_round_one_dev_clauses()))
        path = ROOT / "tests" / "labels" / "data" / "guard_blind1.jsonl"
        print(json.dumps({"without": _score(path, None), "with": _score(path, model)}, indent=1))
        return
    model = fit(*_samples(_all_clauses()))
    OUT.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"{OUT.name}: {len(model.weights_)} weights, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
