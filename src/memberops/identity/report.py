"""How identity resolution is doing: members, merges, the review queue and, on demo
data, pairwise precision and recall against the ground truth.

Precision and recall are over pairs of identified orders: a pair is predicted together
when both orders belong to the same member, and truly together when the same person
placed them. An order left unattached (ambiguous) is its own cluster.

Identity does not read orders: the caller passes the order counts and, for scoring, the
orders' attributions (both from `memberops.orders.repository`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from memberops.identity.repository import count_merges_by_status, count_open_reviews_by_kind
from memberops.members.models import MemberStatus
from memberops.members.repository import count_members_by_status, merge_redirects

# (order id, source, source order id, member id or None), as orders.repository reads them.
Attribution = tuple[str, str, str, str | None]

__all__ = ["Attribution", "identity_report", "pairwise_scores"]


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(assignments: list[tuple[str, str]]) -> dict[str, float | int]:
    """Pairwise precision and recall of (predicted cluster, true cluster) assignments."""
    joint = Counter(assignments)
    predicted = Counter(p for p, _t in assignments)
    truth = Counter(t for _p, t in assignments)
    tp = sum(_pairs(n) for n in joint.values())
    pred_pairs = sum(_pairs(n) for n in predicted.values())
    true_pairs = sum(_pairs(n) for n in truth.values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    return {
        "records": len(assignments),
        "predicted_clusters": len(predicted),
        "true_clusters": len(truth),
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(2 * precision * recall / (precision + recall), 5)
        if precision + recall
        else 0.0,
    }


def identity_report(
    session: Session,
    *,
    order_counts: Mapping[str, int],
    attributions: Iterable[Attribution] = (),
    truth_file: Path | None = None,
) -> dict[str, Any]:
    """Counts, and precision/recall when a demo ground-truth file is given.

    `order_counts` holds "orders" and "orders_without_member"; `attributions` is read
    only when `truth_file` exists.
    """
    statuses = count_members_by_status(session)
    merges = count_merges_by_status(session)
    reviews = count_open_reviews_by_kind(session)
    report: dict[str, Any] = {
        "members": statuses.get(MemberStatus.ACTIVE, 0),
        "members_merged_away": statuses.get(MemberStatus.MERGED, 0),
        "members_erased": statuses.get(MemberStatus.ERASED, 0),
        "merges": merges.get("active", 0),
        "merges_undone": merges.get("undone", 0),
        "pending_reviews": sum(reviews.values()),
        "pending_reviews_by_kind": reviews,
        "orders": order_counts["orders"],
        "orders_without_member": order_counts["orders_without_member"],
    }
    if truth_file is not None and truth_file.exists():
        report["ground_truth"] = _score(session, truth_file, attributions)
    return report


def _score(
    session: Session, truth_file: Path, attributions: Iterable[Attribution]
) -> dict[str, Any]:
    con = sqlite3.connect(f"file:{truth_file}?mode=ro", uri=True)
    try:
        truth = {
            (source, source_id): person
            for source, source_id, person in con.execute(
                "SELECT source, source_id, person_id FROM record_truth "
                "WHERE kind = 'order' AND person_id IS NOT NULL"
            )
        }
    finally:
        con.close()
    redirect = merge_redirects(session)
    assignments: list[tuple[str, str]] = []
    for order_id, source, source_order_id, member_id in attributions:
        person = truth.get((source, source_order_id))
        if person is None:
            continue
        while member_id in redirect:
            member_id = redirect[member_id]
        assignments.append((member_id or f"unattached:{order_id}", person))
    return pairwise_scores(assignments)
