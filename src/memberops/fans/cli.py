"""`memberops fans run | show | top | plot`: fan levels and communication power."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from memberops import clock
from memberops.cli.common import (
    JsonOpt,
    console,
    emit,
    emit_json,
    handle_errors,
    in_transaction,
    open_cli_runtime,
    print_counts,
    print_rows,
    progress,
)
from memberops.db import transaction
from memberops.errors import ValidationError
from memberops.fans.rules import FanConfig
from memberops.fans.service import fan_level_counts, run_fan_levels, top_communicators
from memberops.pipeline.engines import ENGINES, EngineName

__all__ = ["app"]

app = typer.Typer(
    help="Fan levels (hardcore, general, silent) and communication power.", no_args_is_help=True
)

_STEPS = ("extract", "compute", "store")


def engine_for(engine: str, database_url: str, *, what: str) -> EngineName:
    """The engine name checked against the database (PostgreSQL runs in place)."""
    if engine == "duckdb":
        return "duckdb"
    if engine == "postgres":
        if not database_url.startswith("postgresql"):
            raise ValidationError(what, "--engine", "postgres needs a PostgreSQL database")
        return "postgres"
    if engine == "spark":
        return "spark"
    raise ValidationError(what, "--engine", f"must be one of {', '.join(ENGINES)}")


def _as_of(value: datetime | None) -> datetime:
    if value is None:
        return clock.now()
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command("run")
@handle_errors
def run_command(
    as_of: Annotated[
        datetime | None, typer.Option(help="End of observation (default now, UTC).")
    ] = None,
    window_days: Annotated[int, typer.Option(min=1, help="Activity window.")] = 90,
    repurchase_months: Annotated[int, typer.Option(min=1, help="Repurchase lookback.")] = 12,
    hardcore_min_visits: Annotated[int, typer.Option(min=1)] = 6,
    hardcore_min_repurchase_rate: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.5,
    general_min_visits: Annotated[int, typer.Option(min=1)] = 1,
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded), postgres (in place) or spark (local).")
    ] = "duckdb",
    as_json: JsonOpt = False,
) -> None:
    """Compute every member's fan level and communication power and store them."""
    config = FanConfig(
        window_days=window_days,
        repurchase_months=repurchase_months,
        hardcore_min_visits=hardcore_min_visits,
        hardcore_min_repurchase_rate=hardcore_min_repurchase_rate,
        general_min_visits=general_min_visits,
    )
    runtime = open_cli_runtime()
    chosen = engine_for(engine, runtime.settings.database_url, what="fans")
    with progress() as bar:
        task = bar.add_task("fan levels", total=len(_STEPS))
        with transaction(runtime.sessions) as session:
            report = run_fan_levels(
                session,
                as_of=_as_of(as_of),
                config=config,
                engine=chosen,
                database_url=runtime.settings.database_url,
                progress=lambda step: bar.update(task, advance=1, description=step),
            )
    emit(
        report.to_dict(),
        as_json=as_json,
        text=f"{report.members:,} members as of {report.as_of:%Y-%m-%d}: "
        + ", ".join(f"{n:,} {level}" for level, n in report.levels.items())
        + f"; {report.communicators:,} with communication power.",
    )


@app.command("show")
@handle_errors
def show_command(as_json: JsonOpt = False) -> None:
    """Members per level from the last run."""
    counts = in_transaction(lambda _rt, session: fan_level_counts(session))
    if counts["as_of"] is None:
        raise ValidationError("fans", "fan_levels", "no run yet: `memberops fans run` first")

    def text(data: dict[str, Any]) -> None:
        print_counts(
            f"Fan levels as of {data['as_of'][:10]}", "level", data["levels"], data["members"]
        )

    emit(counts, as_json=as_json, text=text)


@app.command("top")
@handle_errors
def top_command(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Members listed.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """The members with the most communication power (shares, reviews, members brought)."""
    rows = in_transaction(lambda _rt, session: top_communicators(session, limit=limit))
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("No member has communication power yet (or `memberops fans run` first).")
        return
    print_rows(
        "Top communicators",
        [{**r, "referred_revenue": f"{r['referred_revenue_cents'] / 100:,.2f}"} for r in rows],
        {
            "member_id": "member",
            "level": "level",
            "shares": "shares",
            "reviews": "reviews",
            "referrals": "referrals",
            "referred_members": "brought",
            "referred_revenue": "revenue brought",
            "communication_score": "score",
        },
    )


@app.command("plot")
@handle_errors
def plot_command(
    output: Annotated[Path, typer.Argument(help="Picture to write (.png or .svg).")],
    as_json: JsonOpt = False,
) -> None:
    """Draw members per level beside the top communicators."""
    if output.suffix.lower() not in (".png", ".svg"):
        raise ValidationError(output.name, "output", "must end in .png or .svg")

    def read(_rt: Any, session: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return fan_level_counts(session), top_communicators(session, limit=10)

    counts, top = in_transaction(read)
    if counts["as_of"] is None:
        raise ValidationError("fans", "fan_levels", "no run yet: `memberops fans run` first")
    from memberops.fans.plots import draw_fan_levels

    draw_fan_levels(
        counts["levels"],
        [{"member": r["member_id"], **r} for r in top],
        output,
        title=f"Fan levels as of {counts['as_of'][:10]}",
    )
    emit({"written": str(output)}, as_json=as_json, text=f"Wrote {output}")
