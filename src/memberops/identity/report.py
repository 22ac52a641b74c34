"""How identity resolution is doing: members, merges, the review queue and, on demo
data, pairwise precision and recall against the ground truth.

Precision and recall are over pairs of identified orders: a pair is predicted together
when both orders belong to the same member, and truly together when the same person
placed them. An order left unattached (ambiguous) is its own cluster.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from memberops.identity.models import IdentityReview, MergeRecord
from memberops.members.models import Member, MemberStatus
from memberops.orders.models import Order

__all__ = ["identity_report", "pairwise_scores"]


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


def identity_report(session: Session, *, truth_file: Path | None = None) -> dict[str, Any]:
    """Counts, and precision/recall when a demo ground-truth file is given."""
    statuses = dict(
        session.execute(select(Member.status, func.count()).group_by(Member.status)).all()
    )
    merges = dict(
        session.execute(select(MergeRecord.status, func.count()).group_by(MergeRecord.status)).all()
    )
    reviews = dict(
        session.execute(
            select(IdentityReview.kind, func.count())
            .where(IdentityReview.status == "open")
            .group_by(IdentityReview.kind)
        ).all()
    )
    orders_total = session.scalar(select(func.count()).select_from(Order)) or 0
    unattached = (
        session.scalar(select(func.count()).select_from(Order).where(Order.member_id.is_(None)))
        or 0
    )
    report: dict[str, Any] = {
        "members": statuses.get(MemberStatus.ACTIVE, 0),
        "members_merged_away": statuses.get(MemberStatus.MERGED, 0),
        "members_erased": statuses.get(MemberStatus.ERASED, 0),
        "merges": merges.get("active", 0),
        "merges_undone": merges.get("undone", 0),
        "pending_reviews": sum(reviews.values()),
        "pending_reviews_by_kind": reviews,
        "orders": orders_total,
        "orders_without_member": unattached,
    }
    if truth_file is not None and truth_file.exists():
        report["ground_truth"] = _score(session, truth_file)
    return report


def _score(session: Session, truth_file: Path) -> dict[str, Any]:
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
    redirect = dict(
        session.execute(
            select(Member.id, Member.merged_into_id).where(Member.status == MemberStatus.MERGED)
        ).all()
    )
    assignments: list[tuple[str, str]] = []
    rows = session.execute(
        select(Order.id, Order.source, Order.source_order_id, Order.member_id)
    ).yield_per(20_000)
    for order_id, source, source_order_id, member_id in rows:
        person = truth.get((source, source_order_id))
        if person is None:
            continue
        while member_id in redirect:
            member_id = redirect[member_id]
        assignments.append((member_id or f"unattached:{order_id}", person))
    return pairwise_scores(assignments)
