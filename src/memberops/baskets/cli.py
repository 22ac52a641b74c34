"""`memberops baskets rules`: dish combinations on the live chain or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from memberops.baskets.service import (
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_LIFT,
    DEFAULT_MIN_SUPPORT,
    BasketReport,
    dish_combinations,
    mine_file,
)
from memberops.cli.common import console, emit_json, handle_errors, open_cli_runtime
from memberops.db import transaction
from memberops.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(
    help="Dish combinations: frequent itemsets and association rules.", no_args_is_help=True
)


def _read_lines(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise ValidationError(str(path), "--input", "file not found")
    frame = (
        pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path, dtype=str)
    )
    for column in ("basket_id", "item"):
        if column not in frame.columns:
            raise ValidationError(path.name, column, "column is missing")
    return frame


@app.command("rules")
@handle_errors
def rules_command(
    store: Annotated[str | None, typer.Option(help="Only this store's orders (its code).")] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input", help="CSV or Parquet of (basket_id, item) rows instead of live data."
        ),
    ] = None,
    min_support: Annotated[float | None, typer.Option(min=0.0, max=1.0)] = None,
    min_confidence: Annotated[float | None, typer.Option(min=0.0, max=1.0)] = None,
    min_lift: Annotated[float | None, typer.Option(min=0.0)] = None,
    top: Annotated[int, typer.Option(min=1, max=10_000, help="Rules shown (by lift).")] = 20,
    png: Annotated[Path | None, typer.Option("--png", help="Draw the top combinations.")] = None,
    svg: Annotated[Path | None, typer.Option("--svg", help="Draw the top combinations.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Frequent itemsets and rules (support, confidence, lift), chain-wide or per store.

    With --input the JSON holds every frequent itemset and its support; live output
    lists the rules (add --json for the itemsets too).
    """
    if input_file is not None:
        if store is not None:
            raise ValidationError("baskets rules", "--store", "does not apply to --input")
        if min_support is None:
            raise ValidationError("baskets rules", "--min-support", "is required with --input")
        report = mine_file(
            _read_lines(input_file),
            min_support=min_support,
            min_confidence=min_confidence or 0.0,
            min_lift=min_lift or 0.0,
        )
    else:
        runtime = open_cli_runtime()
        with transaction(runtime.sessions) as session:
            report = dish_combinations(
                session,
                store_code=store,
                min_support=DEFAULT_MIN_SUPPORT if min_support is None else min_support,
                min_confidence=DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence,
                min_lift=DEFAULT_MIN_LIFT if min_lift is None else min_lift,
            )
    for path in (png, svg):
        if path is not None:
            from memberops.baskets.plots import draw_top_rules

            draw_top_rules(report.rules, path, top=top, title=f"Top combinations ({report.scope})")
    if as_json:
        emit_json(report.to_dict())
        return
    _print(report, top)


def _print(report: BasketReport, top: int) -> None:
    console.print(
        f"{report.scope}: {report.baskets:,} baskets, {len(report.itemsets):,} frequent itemsets"
        f" (support >= {report.min_support}), {len(report.rules):,} rules"
        f" (confidence >= {report.min_confidence}, lift >= {report.min_lift})",
        highlight=False,
    )
    table = Table("if the order has", "it also has", "support", "confidence", "lift")
    for rule in report.rules[:top]:
        table.add_row(
            " + ".join(rule["antecedents"]),
            " + ".join(rule["consequents"]),
            f"{rule['support']:.2%}",
            f"{rule['confidence']:.1%}",
            f"{rule['lift']:.2f}",
        )
    console.print(table)
