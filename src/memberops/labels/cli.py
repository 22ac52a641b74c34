"""`memberops labels`: screen notes with the label guard, scan stored labels, review.

Exit codes of `labels screen` (so a script can act on a verdict without parsing):
0 the note may be stored (allow, or sensitive: stored with the member's consent),
3 the guard refuses the note (SCREEN_REJECTED), 4 it needs a manager's review
(SCREEN_NEEDS_REVIEW). With '-' the exit code is the worst over all lines.

`screen` is pure (no database, no keys), so a chain can check a file of legacy notes on
any laptop before importing it: `memberops labels screen - < notes.txt` writes one JSON
object per input line, in order, blank lines included, so outputs line up with inputs.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from memberops.cli.common import cli_actor, console, emit_json, handle_errors, open_cli_runtime
from memberops.db import transaction
from memberops.labels import reviews
from memberops.labels.guard import Screening, screen
from memberops.labels.models import Label, LabelReview
from memberops.labels.pipeline import refresh_service_needs
from memberops.labels.scan import ScanReport, scan_labels

__all__ = ["app"]

app = typer.Typer(
    help="Labels: screen notes against the rule (dining needs yes, looks and judgements no)"
    " and scan stored labels.",
    no_args_is_help=True,
)


_VERDICT_STYLE = {"allow": "green", "sensitive": "yellow", "reject": "red", "review": "magenta"}
SCREEN_REJECTED = 3
SCREEN_NEEDS_REVIEW = 4
_EXIT = {"reject": SCREEN_REJECTED, "review": SCREEN_NEEDS_REVIEW}


def _line_json(screening: Screening) -> str:
    return json.dumps(screening.to_dict(), ensure_ascii=False)


def _print_screening(screening: Screening) -> None:
    style = _VERDICT_STYLE.get(screening.verdict, "white")
    console.print(f"[{style}]{screening.verdict}[/{style}]", highlight=False)
    for reason in screening.reasons:
        console.print(f"  - {reason}", markup=False, highlight=False)
    if screening.spans:
        table = Table("start", "end", "category", "phrase")
        for span in screening.spans:
            # Text(), not a str: a note is never read as Rich markup.
            table.add_row(str(span.start), str(span.end), span.category, Text(span.text))
        console.print(table)
    if screening.sensitive_categories:
        console.print(
            "  sensitive: "
            + ", ".join(screening.sensitive_categories)
            + " (stored only with the member's sensitive_data consent)",
            markup=False,
            highlight=False,
        )
    if screening.verdict in ("reject", "review") and screening.remainder:
        console.print("  could be stored instead:", markup=False, highlight=False, end=" ")
        console.print(screening.remainder, markup=False, highlight=False)


@app.command("screen")
@handle_errors
def screen_command(
    text: Annotated[
        str, typer.Argument(help="The note to screen, or '-' for one note a line on stdin.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Screen a note with the label guard (no database needed)."""
    if text == "-":
        # Always JSON lines: batch mode is for scripts, one object per input line.
        worst = 0
        for line in sys.stdin:
            screening = screen(line.rstrip("\r\n"))
            sys.stdout.write(_line_json(screening) + "\n")
            worst = max(worst, _EXIT.get(screening.verdict, 0))
        sys.stdout.flush()
        if worst:
            raise typer.Exit(worst)
        return
    screening = screen(text)
    if as_json:
        emit_json(screening.to_dict())
    else:
        _print_screening(screening)
    if screening.verdict in _EXIT:
        raise typer.Exit(_EXIT[screening.verdict])


def _print_report(report: ScanReport) -> None:
    console.print(f"scanned {report.scanned} labels", highlight=False)
    verdicts = Table("verdict", "labels")
    for verdict, count in sorted(report.by_verdict.items()):
        verdicts.add_row(verdict, str(count))
    console.print(verdicts)
    if report.by_category:
        categories = Table("category", "labels")
        for category, count in sorted(report.by_category.items()):
            categories.add_row(category, str(count))
        console.print(categories)
    verb = "would quarantine" if report.dry_run else "quarantined"
    console.print(f"{verb} {len(report.quarantined)} labels", highlight=False)
    for label_id in report.quarantined:
        console.print(f"  {label_id}", highlight=False, markup=False)
    if report.unreadable:
        console.print(
            f"[red]{len(report.unreadable)} labels could not be decrypted[/red] (check the keys):",
            highlight=False,
        )
        for label_id in report.unreadable:
            console.print(f"  {label_id}", highlight=False, markup=False)


@app.command("scan")
@handle_errors
def scan_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report violations without quarantining them.")
    ] = False,
) -> None:
    """Screen every stored active label and quarantine the ones that break the rule.

    The report gives counts by verdict and category and the ids of quarantined labels,
    never their texts.
    """
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        report = scan_labels(session, runtime.keyring, actor=cli_actor(), quarantine=not dry_run)
    if as_json:
        emit_json(report.to_dict())
    else:
        _print_report(report)


@app.command("refresh")
@handle_errors
def refresh_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Derive service-need labels ("no onions") from order modifiers for every member."""
    summary = refresh_service_needs(open_cli_runtime())
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"{summary['members']:,} members with recurring service needs; "
            f"{summary['active_labels']:,} active service-need labels."
        )


# ---------------------------------------------------------------- the review queue
reviews_app = typer.Typer(help="The review queue of held label notes.", no_args_is_help=True)


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


@reviews_app.command("list")
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


@reviews_app.command("approve")
@handle_errors
def approve_command(
    review_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the note may be stored.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Approve a held note: its label becomes active (audited)."""
    _decide(review_id, reason, approve=True, as_json=as_json)


@reviews_app.command("reject")
@handle_errors
def reject_command(
    review_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the note is refused.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reject a held note: its text is erased (audited)."""
    _decide(review_id, reason, approve=False, as_json=as_json)


app.add_typer(reviews_app, name="reviews")
