"""`memberops rfm run|show|plot`: score members, read the segments and the R x F grid."""

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
from memberops.pipeline.engines import ENGINES
from memberops.rfm.rules import DEFAULT_BINS, RfmConfig
from memberops.rfm.service import read_rfm, run_rfm, run_rfm_stores

__all__ = ["app", "check_engine", "check_picture"]

app = typer.Typer(
    help="RFM: recency, frequency, monetary scores and segments.", no_args_is_help=True
)

StoreOpt = Annotated[
    str | None, typer.Option("--store", help="Store code: score within one store.")
]
EngineOpt = Annotated[str, typer.Option(help="duckdb (default), postgres (in place) or spark.")]


def check_engine(engine: str, database_url: str) -> Any:
    """The engine name, refused with a clear reason when it cannot run here."""
    if engine not in ENGINES:
        raise ValidationError("engine", "--engine", f"must be one of {', '.join(ENGINES)}")
    if engine == "postgres" and not database_url.startswith("postgresql"):
        raise ValidationError("engine", "--engine", "postgres runs in place: needs PostgreSQL")
    return engine


def check_picture(path: Path) -> Path:
    """`path` when its suffix names a format we draw (PNG or SVG)."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise ValidationError(path.name, "--out", "must end in .png or .svg")
    if not path.parent.exists():
        raise ValidationError(path.name, "--out", "folder does not exist")
    return path


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return clock.now()
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command("run")
@handle_errors
def run_command(
    store: StoreOpt = None,
    every_store: Annotated[
        bool, typer.Option("--every-store", help="Also score within every store.")
    ] = False,
    bins: Annotated[int, typer.Option(min=2, max=10, help="Bins per measure.")] = DEFAULT_BINS,
    as_of: Annotated[datetime | None, typer.Option(help="Default now (UTC).")] = None,
    engine: EngineOpt = "duckdb",
    as_json: JsonOpt = False,
) -> None:
    """Score every member with counted orders (chain-wide, or in one store) and store it."""
    runtime = open_cli_runtime()
    chosen = check_engine(engine, runtime.settings.database_url)
    with progress() as bar:
        task = bar.add_task(f"RFM on {chosen}", total=1)
        with transaction(runtime.sessions) as session:
            result = run_rfm(
                session,
                now=_aware(as_of),
                config=RfmConfig(bins=bins),
                store_code=store,
                engine=chosen,
                database_url=runtime.settings.database_url,
            )
            stores = (
                run_rfm_stores(
                    session,
                    now=_aware(as_of),
                    config=RfmConfig(bins=bins),
                    engine=chosen,
                    database_url=runtime.settings.database_url,
                )
                if every_store and store is None
                else []
            )
        bar.advance(task)

    def text(data: dict[str, Any]) -> None:
        for run in stores:
            console.print(f"{run.store}: {run.members:,} members scored", highlight=False)
        console.print(
            f"{data['members']:,} members scored ({store or 'chain'}, {bins} bins) as of "
            f"{result.as_of:%Y-%m-%d}: "
            + ", ".join(f"{k} {v:,}" for k, v in data["segments"].items()),
            highlight=False,
        )

    data = result.to_dict()
    if stores:
        data["stores"] = [run.to_dict() for run in stores]
    emit(data, as_json=as_json, text=text)


def _read(store: str | None) -> dict[str, Any]:
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        return read_rfm(session, store_code=store)


@app.command("show")
@handle_errors
def show_command(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Segment counts and spend, and the R x F grid of the latest run."""
    data = _read(store)

    def text(d: dict[str, Any]) -> None:
        table = Table(
            "segment", "members", "% members", "spend", "% spend",
            title=f"RFM {store or 'chain'} as of {d['as_of'][:10]} ({d['members']:,} members)",
        )  # fmt: skip
        for s in d["segments"]:
            table.add_row(
                s["segment"],
                f"{s['members']:,}",
                f"{s['share_of_members']:.1%}",
                f"{s['spend_cents'] / 100:,.2f}",
                f"{s['share_of_spend']:.1%}",
            )
        console.print(table)
        grid = Table("R \\ F", *[str(f) for f in d["grid"]["f"]], title="members per R x F")
        for r, row in reversed(list(zip(d["grid"]["r"], d["grid"]["members"], strict=True))):
            grid.add_row(str(r), *[f"{n:,}" for n in row])
        console.print(grid)

    emit(data, as_json=as_json, text=text)


@app.command("plot")
@handle_errors
def plot_command(
    out: Annotated[Path, typer.Option("--out", help="FILE.png or FILE.svg")],
    store: StoreOpt = None,
) -> None:
    """Draw the R x F grid and the segment sizes of the latest run."""
    from memberops.rfm.plots import draw_rfm_grid  # matplotlib loads only to draw

    check_picture(out)
    data = _read(store)
    draw_rfm_grid(
        data["grid"]["members"],
        [(s["segment"], s["members"]) for s in data["segments"]],
        out,
        title=f"RFM {store or 'chain'} as of {data['as_of'][:10]}",
    )
    console.print(f"wrote {out}", highlight=False)
