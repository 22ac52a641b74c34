"""`memberops labels reviews`: list held notes, approve or reject them with a reason.

The operator at the terminal acts as an admin; every decision is audited.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from memberops.cli.common import cli_actor, console, emit_json, handle_errors, open_cli_runtime
from memberops.db import transaction
from memberops.labels import reviews
from memberops.labels.models import Label, LabelReview

__all__ = ["app"]

app = typer.Typer(help="The review queue of held label notes.", no_args_is_help=True)


def _row(review: LabelReview, text: str | None) -> dict[str, object]:
    return {
        "id": review.id,
        "label_id": review.label_id,
        "member_id": review.member_id,
        "store_code": review.store_code,
        "status": review.status,
        "reasons": list(review.reasons or []),
        "categories": list(review.categories or []),
        "text": text,
        "created_at": review.created_at.isoformat(),
        "decided_by": review.decided_by,
        "decision_reason": review.decision_reason,
    }


@app.command("list")
@handle_errors
def list_command(
    status: Annotated[str, typer.Option(help="pending, approved, rejected or all.")] = "pending",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List held notes with the guard's reasons (texts shown for pending ones)."""
    runtime = open_cli_runtime()
    actor = cli_actor()
    rows: list[dict[str, object]] = []
    with transaction(runtime.sessions) as session:
        for review in reviews.list_reviews(
            session, actor=actor, status=None if status == "all" else status
        ):
            label = session.get(Label, review.label_id)
            text = None
            if label is not None and label.text_enc and review.status == "pending":
                text = runtime.keyring.decrypt(
                    label.text_enc, row_id=label.id, table="labels", column="text_enc"
                )
            rows.append(_row(review, text))
    if as_json:
        emit_json(rows)
        return
    table = Table("review", "member", "store", "status", "categories", "note")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["member_id"]),
            str(row["store_code"] or ""),
            str(row["status"]),
            ", ".join(row["categories"]),  # type: ignore[arg-type]
            Text(str(row["text"] or "")),
        )
    console.print(table)


def _decide(review_id: str, reason: str, *, approve: bool, as_json: bool) -> None:
    runtime = open_cli_runtime()
    decide = reviews.approve_review if approve else reviews.reject_review
    with transaction(runtime.sessions) as session:
        review = decide(session, review_id, reason=reason, actor=cli_actor())
        row = _row(review, None)
    if as_json:
        emit_json(row)
    else:
        console.print(f"review {review_id}: {row['status']}", highlight=False, markup=False)


@app.command("approve")
@handle_errors
def approve_command(
    review_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the note may be stored.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Approve a held note: its label becomes active (audited)."""
    _decide(review_id, reason, approve=True, as_json=as_json)


@app.command("reject")
@handle_errors
def reject_command(
    review_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the note is refused.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reject a held note: its text is erased (audited)."""
    _decide(review_id, reason, approve=False, as_json=as_json)
