"""Identity resolution measured against the demo simulator's ground truth.

The simulator knows which person placed every order; the report scores the members the
resolver built as pairwise precision (orders put together that belong together) and
recall (orders that belong together and were put together). Floors below were measured
on this seed (precision 0.99859, recall 0.97688; 2026-12-01) less a small margin: a
resolver change that fuses different people or stops linking channels falls under them.
Precision is not 1.0 because the simulator plants cases no rule can tell apart (a phone
shared by a family, a cashier typing another member's card).
"""

from __future__ import annotations

import pytest

from memberops.db import transaction
from memberops.demo.load import load_demo, truth_path
from memberops.identity.report import identity_report, pairwise_scores
from memberops.orders.repository import order_attributions, order_counts
from memberops.runtime import Runtime

MEMBERS, SEED, MONTHS = 500, 42, 12
PRECISION_FLOOR = 0.995
RECALL_FLOOR = 0.96


def test_pairwise_scores_count_pairs_of_orders() -> None:
    # Predicted: {a1, a2, a3} and {b1}; truth: {a1, a2} and {a3, b1}.
    scores = pairwise_scores([("A", "p"), ("A", "p"), ("A", "q"), ("B", "q")])
    assert scores["precision"] == pytest.approx(1 / 3, abs=1e-5)  # 1 of 3 predicted pairs
    assert scores["recall"] == pytest.approx(1 / 2, abs=1e-5)  # 1 of 2 true pairs
    assert (scores["predicted_clusters"], scores["true_clusters"]) == (2, 2)


def test_resolution_on_the_demo_chain_keeps_people_apart_and_links_their_channels(
    runtime: Runtime,
) -> None:
    summary = load_demo(runtime, members=MEMBERS, seed=SEED, months=MONTHS)
    assert summary.rejected == 0
    with transaction(runtime.sessions) as session:
        report = identity_report(
            session,
            order_counts=order_counts(session),
            attributions=order_attributions(session),
            truth_file=truth_path(runtime.settings.home),
        )
    scores = report["ground_truth"]
    assert scores["true_clusters"] == MEMBERS
    assert scores["records"] > 0.8 * summary.orders  # walk-ins have no person behind them
    assert scores["precision"] >= PRECISION_FLOOR, scores
    assert scores["recall"] >= RECALL_FLOOR, scores
