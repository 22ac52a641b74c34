"""`memberops identity`: the resolution report, merges, unmerges and review decisions."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from memberops.cli.common import (
    JsonOpt,
    cli_actor,
    console,
    emit,
    handle_errors,
    in_transaction,
    print_rows,
)
from memberops.demo.load import truth_path
from memberops.identity.merges import merge_by_decision, unmerge
from memberops.identity.report import identity_report
from memberops.identity.repository import list_merges, list_open_reviews
from memberops.identity.reviews import resolve_review
from memberops.orders.repository import order_attributions, order_counts
from memberops.runtime import Runtime

__all__ = ["app"]

app = typer.Typer(help="Identity resolution: report, merges, reviews.", no_args_is_help=True)


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title="identity resolution", show_header=False)
    for key, value in report.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else f"{value:,}")
    console.print(table)


@app.command("report")
@handle_errors
def identity_report_cmd(as_json: JsonOpt = False) -> None:
    """Members, merges, pending conflicts; precision/recall on demo data."""
    report = in_transaction(
        lambda runtime, session: identity_report(
            session,
            order_counts=order_counts(session),
            attributions=order_attributions(session),
            truth_file=truth_path(runtime.settings.home),
        )
    )
    emit(report, as_json=as_json, text=_print_report)


@app.command("merges")
@handle_errors
def identity_merges(
    member: Annotated[str | None, typer.Option(help="Only merges involving this member.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Recent merges, newest first."""
    rows = in_transaction(
        lambda _runtime, session: list_merges(session, member_id=member, limit=limit)
    )
    emit(
        rows,
        as_json=as_json,
        text=lambda data: print_rows(
            "merges",
            data,
            {
                "id": "merge",
                "survivor": "survivor",
                "absorbed": "absorbed",
                "reason": "reason",
                "status": "status",
                "moved": "moved rows",
            },
        ),
    )


@app.command("unmerge")
@handle_errors
def identity_unmerge(
    merge_id: Annotated[str, typer.Argument(help="The merge to undo.")],
    as_json: JsonOpt = False,
) -> None:
    """Undo a merge: both members and their history come back."""

    def work(runtime: Runtime, session: Session) -> dict[str, Any]:
        record = unmerge(session, runtime.keyring, merge_id=merge_id, actor=cli_actor())
        return {
            "merge": record.id,
            "survivor": record.survivor_id,
            "restored": record.absorbed_id,
            "status": record.status,
        }

    result = in_transaction(work)
    emit(
        result,
        as_json=as_json,
        text=f"merge {merge_id} undone: member {result['restored']} restored",
    )


@app.command("merge")
@handle_errors
def identity_merge(
    member_ids: Annotated[list[str], typer.Argument(help="Two or more member ids: one person.")],
    reason: Annotated[str, typer.Option(help="Why they are one person.")],
    as_json: JsonOpt = False,
) -> None:
    """Merge members a reviewer decided are one person (undo with `identity unmerge`)."""

    def work(runtime: Runtime, session: Session) -> list[dict[str, Any]]:
        records = merge_by_decision(
            session, runtime.keyring, member_ids=member_ids, actor=cli_actor(), reason=reason
        )
        return [
            {"merge": r.id, "survivor": r.survivor_id, "absorbed": r.absorbed_id} for r in records
        ]

    def text(result: list[dict[str, Any]]) -> None:
        for r in result:
            console.print(f"merge {r['merge']}: {r['absorbed']} into {r['survivor']}")

    emit(in_transaction(work), as_json=as_json, text=text)


@app.command("resolve")
@handle_errors
def identity_resolve(
    case_id: Annotated[str, typer.Argument(help="The review case.")],
    decision: Annotated[str, typer.Option(help="merge or keep_apart.")],
    note: Annotated[str, typer.Option(help="What the reviewer found.")],
    as_json: JsonOpt = False,
) -> None:
    """Close a review case by merging its members or keeping them apart."""

    def work(runtime: Runtime, session: Session) -> dict[str, Any]:
        review = resolve_review(
            session,
            runtime.keyring,
            review_id=case_id,
            decision=decision,
            actor=cli_actor(),
            note=note,
        )
        return {"case": review.id, "status": review.status, "resolution": review.resolution}

    result = in_transaction(work)
    emit(result, as_json=as_json, text=f"case {result['case']}: {result['resolution']}")


@app.command("reviews")
@handle_errors
def identity_reviews(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Open review cases: shared or contradictory identifiers the resolver did not decide."""
    rows = in_transaction(lambda _runtime, session: list_open_reviews(session, limit=limit))
    emit(
        rows,
        as_json=as_json,
        text=lambda data: print_rows(
            "open review cases",
            data,
            {
                "id": "case",
                "kind": "kind",
                "members": "members",
                "detail": "detail",
                "occurrences": "seen",
            },
        ),
    )
