"""`memberops clv fit`: fit BG/NBD and Gamma-Gamma on a summary file or the live chain."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from memberops import clock
from memberops.cli.common import console, emit_json, handle_errors, open_cli_runtime
from memberops.clv.estimators import BetaGeo, GammaGamma
from memberops.clv.service import ClvConfig, fit_summary, score_members
from memberops.db import transaction
from memberops.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(
    help="Customer lifetime value: BG/NBD visits, Gamma-Gamma spend.", no_args_is_help=True
)


def _model_dict(model: BetaGeo | GammaGamma | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {
        "params": model.params,
        "log_likelihood": model.log_likelihood,
        "rows": model.n_rows_,
        "distinct_rows": model.n_distinct_rows_,
        "converged": model.converged_,
    }


def _print_models(bg: BetaGeo, gg: GammaGamma | None) -> None:
    table = Table("model", "parameters", "log-likelihood", "customers")
    table.add_row(
        "BG/NBD",
        ", ".join(f"{k}={v:.4f}" for k, v in bg.params.items()),
        f"{bg.log_likelihood:,.2f}",
        f"{bg.n_rows_:,}",
    )
    if gg is not None:
        table.add_row(
            "Gamma-Gamma",
            ", ".join(f"{k}={v:.4f}" for k, v in gg.params.items()),
            f"{gg.log_likelihood:,.2f}",
            f"{gg.n_rows_:,} repeat buyers",
        )
    console.print(table)


def _read_summary(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise ValidationError(str(path), "--summary", "file not found")
    frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    for column in ("frequency", "recency", "T"):
        if column not in frame.columns:
            raise ValidationError(path.name, column, "column is missing")
    return frame


@app.command("fit")
@handle_errors
def fit_command(
    summary: Annotated[
        Path | None,
        typer.Option(
            help="CSV (or Parquet) with frequency, recency, T and optionally monetary_value;"
            " without it, fit on the live chain and score every member."
        ),
    ] = None,
    as_of: Annotated[
        datetime | None, typer.Option(help="Live data: end of observation (default now, UTC).")
    ] = None,
    horizon_days: Annotated[int, typer.Option(min=1, help="Expected visits over this.")] = 90,
    clv_months: Annotated[int, typer.Option(min=1, max=120, help="CLV horizon.")] = 12,
    discount_rate: Annotated[
        float, typer.Option(min=0.0, max=0.99, help="Discount rate per month.")
    ] = 0.01,
    output: Annotated[
        Path | None, typer.Option(help="Live data: write every member's scores here (CSV).")
    ] = None,
    save_models: Annotated[
        Path | None, typer.Option(help="Write the fitted models as JSON into this folder.")
    ] = None,
    top: Annotated[int, typer.Option(min=0, max=1000, help="Members listed (by CLV).")] = 10,
    png: Annotated[Path | None, typer.Option("--png", help="Draw the CLV distribution.")] = None,
    svg: Annotated[Path | None, typer.Option("--svg", help="Draw the CLV distribution.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Fit both models and print their parameters and log-likelihoods."""
    if summary is not None:
        frame = _read_summary(summary)
        bg, gg = fit_summary(frame)
        _save(save_models, bg, gg)
        if as_json:
            emit_json({"beta_geo": _model_dict(bg), "gamma_gamma": _model_dict(gg)})
        else:
            _print_models(bg, gg)
        return
    config = ClvConfig(
        horizon_days=horizon_days, clv_months=clv_months, monthly_discount_rate=discount_rate
    )
    now = clock.now() if as_of is None else _aware(as_of)
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        result = score_members(session, now=now, config=config)
    _save(save_models, result.beta_geo, result.gamma_gamma)
    if output is not None:
        result.scores.to_csv(output, index=False)
    for path in (png, svg):
        if path is not None:
            from memberops.clv.plots import draw_clv_distribution

            draw_clv_distribution(
                result.scores["clv_cents"], path, title=f"CLV over {clv_months} months"
            )
    leaders = result.scores.head(top)
    if as_json:
        emit_json(
            {
                "as_of": now.isoformat(),
                "config": config.__dict__,
                "beta_geo": _model_dict(result.beta_geo),
                "gamma_gamma": _model_dict(result.gamma_gamma),
                "aggregates": result.aggregates,
                "top": leaders.to_dict(orient="records"),
            }
        )
        return
    _print_models(result.beta_geo, result.gamma_gamma)
    agg = result.aggregates
    console.print(
        f"{agg['members_scored']:,} members scored as of {now:%Y-%m-%d}: median CLV "
        f"{agg['median_clv_cents'] / 100:,.2f}, top 20% hold "
        f"{agg['top_20_percent_share_of_clv']:.0%} of the {clv_months}-month value."
    )
    table = Table("member", "visits", "P(alive)", f"visits {horizon_days}d", "CLV")
    for row in leaders.itertuples(index=False):
        table.add_row(
            str(row.member_id),
            f"{int(row.frequency) + 1}",
            f"{row.p_alive:.2f}",
            f"{row.expected_visits:.2f}",
            f"{row.clv_cents / 100:,.2f}",
        )
    console.print(table)


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _save(folder: Path | None, bg: BetaGeo, gg: GammaGamma | None) -> None:
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    bg.save(folder / "beta_geo.json")
    if gg is not None:
        gg.save(folder / "gamma_gamma.json")
