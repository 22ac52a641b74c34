"""`memberops lifestyle run | show | validate | plot`: lifestyle traits from orders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from memberops import clock
from memberops.cli.common import (
    JsonOpt,
    emit,
    handle_errors,
    in_transaction,
    open_cli_runtime,
    print_counts,
    progress,
)
from memberops.db import transaction
from memberops.errors import ValidationError
from memberops.fans.cli import engine_for
from memberops.lifestyle.service import load_mapping, run_lifestyle, trait_summary

__all__ = ["app"]

app = typer.Typer(help="Lifestyle traits read from what members order.", no_args_is_help=True)

MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", help="A mapping TOML file (default: the one shipped)."),
]


@app.command("run")
@handle_errors
def run_command(
    mapping: MappingOpt = None,
    as_of: Annotated[
        datetime | None, typer.Option(help="End of observation (default now, UTC).")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded), postgres (in place) or spark (local).")
    ] = "duckdb",
    as_json: JsonOpt = False,
) -> None:
    """Score every member against the mapping and store the scores."""
    chosen_mapping = load_mapping(mapping)  # refused before anything is read
    when = clock.now() if as_of is None else (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    runtime = open_cli_runtime()
    chosen = engine_for(engine, runtime.settings.database_url, what="lifestyle")
    with progress() as bar:
        task = bar.add_task("lifestyle traits", total=2)
        with transaction(runtime.sessions) as session:
            report = run_lifestyle(
                session,
                as_of=when,
                mapping=chosen_mapping,
                engine=chosen,
                database_url=runtime.settings.database_url,
                progress=lambda step: bar.update(task, advance=1, description=step),
            )
    emit(
        report.to_dict(),
        as_json=as_json,
        text=f"{report.members_scored:,} members scored as of {report.as_of:%Y-%m-%d} "
        f"({report.mapping}): " + ", ".join(f"{n:,} {trait}" for trait, n in report.traits.items()),
    )


@app.command("show")
@handle_errors
def show_command(as_json: JsonOpt = False) -> None:
    """Members per trait from the last run."""
    summary = in_transaction(lambda _rt, session: trait_summary(session))
    if summary["as_of"] is None:
        raise ValidationError(
            "lifestyle", "lifestyle_scores", "no run yet: `memberops lifestyle run` first"
        )

    def text(data: dict[str, Any]) -> None:
        print_counts(
            f"Lifestyle traits as of {data['as_of'][:10]} ({data['members_scored']:,} scored)",
            "trait",
            data["traits"],
            data["members_scored"],
        )

    emit(summary, as_json=as_json, text=text)


@app.command("validate")
@handle_errors
def validate_command(
    path: Annotated[Path, typer.Argument(help="The mapping TOML file to check.")],
    as_json: JsonOpt = False,
) -> None:
    """Check a mapping: sensitive traits and malformed entries are refused with their line."""
    mapping = load_mapping(path)
    names = ", ".join(mapping.trait_ids())
    emit(
        {"valid": True, "traits": mapping.trait_ids(), "basis": mapping.basis},
        as_json=as_json,
        text=f"{path.name}: valid, {len(mapping.traits)} traits ({names}).",
    )


@app.command("plot")
@handle_errors
def plot_command(
    output: Annotated[Path, typer.Argument(help="Picture to write (.png or .svg).")],
    as_json: JsonOpt = False,
) -> None:
    """Draw members per trait."""
    if output.suffix.lower() not in (".png", ".svg"):
        raise ValidationError(output.name, "output", "must end in .png or .svg")
    summary = in_transaction(lambda _rt, session: trait_summary(session))
    if summary["as_of"] is None:
        raise ValidationError(
            "lifestyle", "lifestyle_scores", "no run yet: `memberops lifestyle run` first"
        )
    from memberops.lifestyle.plots import draw_traits

    draw_traits(
        summary["traits"],
        summary["members_scored"],
        output,
        title=f"Lifestyle traits as of {summary['as_of'][:10]}",
    )
    emit({"written": str(output)}, as_json=as_json, text=f"Wrote {output}")
