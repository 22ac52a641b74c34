"""Train the guard's clause model on the development clauses; measure what it adds.

Usage:
  uv run python scripts/guard_train.py            # fit on every folded clause list and
                                                  # write guard_data/clause_model.json
  uv run python scripts/guard_train.py --measure  # fit without the last folded split's
                                                  # clauses, score that split's notes
                                                  # with and without the model

Only folded (development) clause lists are used; the current blind split
(guard_corpus.BLIND) never is.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

BUCKETS = 1 << 16
ORDERS = (1, 2, 3, 4)
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


def _clauses(folders: tuple[str, ...]) -> list[guard_corpus.Clause]:
    return [
        c
        for f in folders
        for k in ("forbidden", "legit", "sensitive")
        for c in guard_corpus._read(k, f)
    ]


@contextmanager
def _with(model: ClauseModel | None, need_below: float, review_at: float) -> Iterator[None]:
    saved = (guard.load_model, guard.MODEL_NEED_BELOW, guard.MODEL_REVIEW_AT)
    guard.load_model = lambda: model  # type: ignore[assignment]
    guard.MODEL_NEED_BELOW, guard.MODEL_REVIEW_AT = need_below, review_at
    try:
        yield
    finally:
        guard.load_model, guard.MODEL_NEED_BELOW, guard.MODEL_REVIEW_AT = saved  # type: ignore[assignment]


def _score(rows: list[dict[str, str]]) -> dict[str, Any]:
    report = score_rows(rows, guard.screen)
    keys = ("forbidden_held_rate", "legit_refused_rate", "legit_review_rate", "sensitive_held_rate")
    return {k: report[k] for k in keys} | {"verdicts": report["verdicts"]}


def main() -> None:
    """Fit and write the model, or (--measure) report its effect on the last folded split."""
    if "--measure" in sys.argv:
        *train, held_out = guard_corpus.FOLDED
        model = fit(*_samples(_clauses(tuple(train))))
        number = held_out.removeprefix("fragments_blind")
        path = ROOT / "tests" / "labels" / "data" / f"guard_blind{number}.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        out: dict[str, Any] = {"split": path.name}
        with _with(None, 0.0, 1.0):
            out["without model"] = _score(rows)
        for need_below in (0.01, 0.02, 0.05, 0.1, 0.2):
            with _with(model, need_below, 1.01):
                out[f"need below {need_below}"] = _score(rows)
        need = guard.MODEL_NEED_BELOW
        for review_at in (0.9, 0.95, 0.99):
            with _with(model, need, review_at):
                out[f"need below {need}, review at {review_at}"] = _score(rows)
        print(json.dumps(out, indent=1))
        return
    model = fit(*_samples(_clauses(guard_corpus.FOLDED + guard_corpus.EXTRA_DEV)))
    OUT.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"{OUT.name}: {len(model.weights_)} weights, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
