"""`memberops lifecycle run|show|flows|cohorts|plot`: states, flows and cohort retention."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from memberops import clock
from memberops.cli.common import JsonOpt, console, emit, handle_errors, open_cli_runtime, progress
from memberops.db import transaction
from memberops.errors import ValidationError
from memberops.lifecycle.rules import LifecycleConfig
from memberops.lifecycle.service import read_cohorts, read_current, read_flows, run_lifecycle
from memberops.rfm.cli import check_engine, check_picture

__all__ = ["app"]

app = typer.Typer(
    help="Lifecycle: new, active, at risk, lapsed, reactivated; flows and cohorts.",
    no_args_is_help=True,
)


def _text_current(d: dict[str, Any]) -> None:
    table = Table("state", "members", "share", title=f"lifecycle {d['month']} ({d['as_of'][:10]})")
    for s in d["states"]:
        table.add_row(s["state"], f"{s['members']:,}", f"{s['share']:.1%}")
    console.print(table)


@app.command("run")
@handle_errors
def run_command(
    as_of: Annotated[datetime | None, typer.Option(help="Default now (UTC).")] = None,
    new_days: Annotated[int, typer.Option(min=1, help="New: first visit within.")] = 30,
    active_days: Annotated[int, typer.Option(min=1, help="Active: last visit within.")] = 60,
    lapsed_days: Annotated[int, typer.Option(min=2, help="Lapsed: last visit beyond.")] = 120,
    engine: Annotated[str, typer.Option(help="duckdb (default), postgres or spark.")] = "duckdb",
    as_json: JsonOpt = False,
) -> None:
    """Compute every member's state at each month end, the flows and the cohorts."""
    now = clock.now() if as_of is None else (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    config = LifecycleConfig(new_days=new_days, active_days=active_days, lapsed_days=lapsed_days)
    runtime = open_cli_runtime()
    chosen = check_engine(engine, runtime.settings.database_url)
    with progress() as bar:
        task = bar.add_task(f"lifecycle on {chosen}", total=1)
        with transaction(runtime.sessions) as session:
            result = run_lifecycle(
                session,
                now=now,
                config=config,
                engine=chosen,
                database_url=runtime.settings.database_url,
            )
        bar.advance(task)

    def text(d: dict[str, Any]) -> None:
        console.print(
            f"{d['member_months']:,} member-months over {d['months']} months as of "
            f"{now:%Y-%m-%d}: " + ", ".join(f"{k} {v:,}" for k, v in d["current"].items()),
            highlight=False,
        )

    emit(result.to_dict(), as_json=as_json, text=text)


@app.command("show")
@handle_errors
def show_command(as_json: JsonOpt = False) -> None:
    """Members per state in the latest month."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        data = read_current(session)
    emit(data, as_json=as_json, text=_text_current)


@app.command("flows")
@handle_errors
def flows_command(
    since: Annotated[str | None, typer.Option(help="First month, YYYY-MM.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The monthly flow table: members moving from one state to another."""
    if since is not None and not (
        len(since) == 7 and since[4] == "-" and since.replace("-", "").isdigit()
    ):
        raise ValidationError("lifecycle", "--since", "must be YYYY-MM")
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        data = read_flows(session, since=since)

    def text(d: dict[str, Any]) -> None:
        table = Table("month", "from", "to", "members", title="lifecycle flows")
        for f in d["flows"]:
            table.add_row(f["month"], f["from_state"], f["to_state"], f"{f['members']:,}")
        console.print(table)

    emit(data, as_json=as_json, text=text)


@app.command("cohorts")
@handle_errors
def cohorts_command(as_json: JsonOpt = False) -> None:
    """Cohort retention: share of each first-visit month visiting k months later."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        data = read_cohorts(session)

    def text(d: dict[str, Any]) -> None:
        width = max((len(c["retention"]) for c in d["cohorts"]), default=0)
        table = Table("cohort", "size", *[f"k={k}" for k in range(width)], title="retention")
        for c in d["cohorts"]:
            cells = [f"{cell['share']:.0%}" for cell in c["retention"]]
            table.add_row(c["cohort"], f"{c['size']:,}", *cells, *[""] * (width - len(cells)))
        console.print(table)

    emit(data, as_json=as_json, text=text)


@app.command("plot")
@handle_errors
def plot_command(
    out: Annotated[Path, typer.Option("--out", help="FILE.png or FILE.svg")],
    kind: Annotated[str, typer.Option(help="flows or cohorts")] = "flows",
) -> None:
    """Draw the states over time (flows) or the cohort retention heatmap (cohorts)."""
    from memberops.lifecycle import plots  # matplotlib loads only to draw

    if kind not in ("flows", "cohorts"):
        raise ValidationError("lifecycle plot", "--kind", "must be flows or cohorts")
    check_picture(out)
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        data = read_flows(session) if kind == "flows" else read_cohorts(session)
    if kind == "flows":
        states = [s for s in data["states"] if s != "none"]
        plots.draw_flows(data["flows"], states, out, title=f"Lifecycle, {data['as_of'][:10]}")
    else:
        plots.draw_cohorts(data["cohorts"], out, title=f"Cohort retention, {data['as_of'][:10]}")
    console.print(f"wrote {out}", highlight=False)
