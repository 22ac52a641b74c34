"""`memberops concentration run|show|top|plot`: the 80/20 curve, the top list, the Gini."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from memberops import clock
from memberops.cli.common import JsonOpt, console, emit, handle_errors, open_cli_runtime, progress
from memberops.concentration.service import read_concentration, read_top, run_concentration
from memberops.db import transaction
from memberops.rfm.cli import check_engine, check_picture

__all__ = ["app"]

app = typer.Typer(
    help="Revenue concentration: the 80/20 curve, the top spenders, the Gini coefficient.",
    no_args_is_help=True,
)

StoreOpt = Annotated[str | None, typer.Option("--store", help="Store code (default: chain).")]


@app.command("run")
@handle_errors
def run_command(
    as_of: Annotated[datetime | None, typer.Option(help="Default now (UTC).")] = None,
    engine: Annotated[str, typer.Option(help="duckdb (default), postgres or spark.")] = "duckdb",
    as_json: JsonOpt = False,
) -> None:
    """Compute the concentration chain-wide and for every store, and store it."""
    now = clock.now() if as_of is None else (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    runtime = open_cli_runtime()
    chosen = check_engine(engine, runtime.settings.database_url)
    with progress() as bar:
        task = bar.add_task(f"concentration on {chosen}", total=1)
        with transaction(runtime.sessions) as session:
            result = run_concentration(
                session, now=now, engine=chosen, database_url=runtime.settings.database_url
            )
        bar.advance(task)

    def text(data: dict[str, Any]) -> None:
        table = Table("scope", "members", "revenue", "top 20% share", "Gini")
        for name, s in data["scopes"].items():
            table.add_row(
                name,
                f"{s['members']:,}",
                f"{s['revenue_cents'] / 100:,.2f}",
                f"{s['top20_share']:.1%}",
                f"{s['gini']:.3f}",
            )
        console.print(table)

    emit(result.to_dict(), as_json=as_json, text=text)


def _read(store: str | None) -> dict[str, Any]:
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        return read_concentration(session, store_code=store)


@app.command("show")
@handle_errors
def show_command(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """The curve at a few points, the top-20% share and the Gini of the latest run."""
    data = _read(store)

    def text(d: dict[str, Any]) -> None:
        console.print(
            f"{store or 'chain'} as of {d['as_of'][:10]}: {d['members']:,} members, revenue "
            f"{d['revenue_cents'] / 100:,.2f}; the top 20% ({d['top20_members']:,}) bring "
            f"{d['top20_share']:.1%}; Gini {d['gini']:.3f}",
            highlight=False,
        )
        table = Table("top % of members", "share of revenue")
        for point in d["curve"]:
            if point["percent_of_members"] in (1, 5, 10, 20, 30, 50, 80, 100):
                table.add_row(f"{point['percent_of_members']}%", f"{point['share_of_revenue']:.1%}")
        console.print(table)

    emit(data, as_json=as_json, text=text)


@app.command("top")
@handle_errors
def top_command(
    store: StoreOpt = None,
    share: Annotated[float, typer.Option(min=0.0001, max=1.0, help="Top share.")] = 0.2,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """The top `share` of members by net spend (one page)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        data = read_top(session, store_code=store, share=share, limit=limit, offset=offset)

    def text(d: dict[str, Any]) -> None:
        table = Table(
            "rank",
            "member",
            "spend",
            title=f"top {share:.0%} of {store or 'chain'}: {d['total']:,} members, "
            f"{d['top_share_of_revenue']:.1%} of revenue",
        )
        for m in d["members"]:
            table.add_row(str(m["rank"]), m["member_id"], f"{m['spend_cents'] / 100:,.2f}")
        console.print(table)

    emit(data, as_json=as_json, text=text)


@app.command("plot")
@handle_errors
def plot_command(
    out: Annotated[Path, typer.Option("--out", help="FILE.png or FILE.svg")],
    store: StoreOpt = None,
) -> None:
    """Draw the concentration curve of the latest run."""
    from memberops.concentration.plots import draw_concentration_curve  # matplotlib: to draw

    check_picture(out)
    data = _read(store)
    draw_concentration_curve(
        [p["share_of_revenue"] for p in data["curve"]],
        data["gini"],
        out,
        title=f"Revenue concentration, {store or 'chain'}, {data['as_of'][:10]}",
    )
    console.print(f"wrote {out}", highlight=False)
