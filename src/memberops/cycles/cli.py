"""`memberops cycles due`: members past their usual visit cycle, for reminders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from memberops import clock
from memberops.cli.common import console, emit_json, handle_errors, open_cli_runtime
from memberops.cycles.rules import CycleConfig
from memberops.cycles.service import member_cycles
from memberops.db import transaction

__all__ = ["app"]

app = typer.Typer(
    help="Purchase cycles: usual gaps between visits and the due list.", no_args_is_help=True
)


@app.command("due")
@handle_errors
def due_command(
    category: Annotated[
        str | None, typer.Option(help="Cycle of one item category (e.g. desserts).")
    ] = None,
    by_category: Annotated[
        bool, typer.Option("--by-category", help="One cycle per member and category.")
    ] = False,
    as_of: Annotated[datetime | None, typer.Option(help="Default now (UTC).")] = None,
    min_visits: Annotated[int, typer.Option(min=2)] = 3,
    due_factor: Annotated[float, typer.Option(min=0.1)] = 1.25,
    lapsed_factor: Annotated[float, typer.Option(min=0.2)] = 4.0,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Members whose time since the last visit passed their usual cycle, most overdue
    first relative to their cycle."""
    now = clock.now() if as_of is None else (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    config = CycleConfig(min_visits=min_visits, due_factor=due_factor, lapsed_factor=lapsed_factor)
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        cycles, histogram = member_cycles(
            session, now=now, by_category=by_category, category=category, config=config
        )
    due = cycles[cycles["status"] == "due"].copy()
    due["overdue_ratio"] = due["days_since_last"] / due["median_gap_days"]
    due = due.sort_values("overdue_ratio", ascending=False).head(limit)
    counts = cycles["status"].value_counts().to_dict() if len(cycles) else {}
    if as_json:
        emit_json(
            {
                "as_of": now.isoformat(),
                "config": config.__dict__,
                "status_counts": {str(k): int(v) for k, v in counts.items()},
                "gap_histogram": histogram,
                "due": [
                    {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
                    for row in due.to_dict(orient="records")
                ],
            }
        )
        return
    console.print(
        "status: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())), highlight=False
    )
    columns = [
        "member",
        *(["category"] if "category" in due.columns else []),
        "visits",
        "usual gap (d)",
        "since last (d)",
        "expected next",
    ]
    table = Table(*columns, title=f"due as of {now:%Y-%m-%d}")
    for row in due.to_dict(orient="records"):
        cells = [str(row["member_id"])]
        if "category" in due.columns:
            cells.append(str(row["category"]))
        cells += [
            str(row["visits"]),
            f"{row['median_gap_days']:.0f}",
            f"{row['days_since_last']:.0f}",
            f"{row['expected_next_visit']:%Y-%m-%d}",
        ]
        table.add_row(*cells)
    console.print(table)
