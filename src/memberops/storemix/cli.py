"""`memberops storemix show | plot`: value segments and lifestyles per store, and advice."""

from __future__ import annotations

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
    print_rows,
)
from memberops.errors import ValidationError
from memberops.storemix.rules import MixConfig
from memberops.storemix.service import store_mix

__all__ = ["app"]

app = typer.Typer(
    help="Store mix: who lives around each store, and what to do.", no_args_is_help=True
)

StoreOpt = Annotated[str | None, typer.Option("--store", help="One store's code.")]
MinMembersOpt = Annotated[
    int, typer.Option(min=1, help="Fewest home members a store needs for advice.")
]


def _mix(store: str | None, min_members: int) -> list[dict[str, Any]]:
    config = MixConfig(min_members=min_members)
    return in_transaction(
        lambda _rt, session: store_mix(session, as_of=clock.now(), store_code=store, config=config)
    )


@app.command("show")
@handle_errors
def show_command(
    store: StoreOpt = None, min_members: MinMembersOpt = 20, as_json: JsonOpt = False
) -> None:
    """Per store: members by value segment and lifestyle trait, and one line of advice."""
    stores = _mix(store, min_members)
    if as_json:
        emit_json(stores)
        return
    if not stores:
        console.print("No store has home members yet (`memberops pipeline run` first).")
        return
    print_rows(
        "Store mix",
        [
            {
                "store": s["store_code"],
                "members": f"{s['members']:,}",
                "premium": f"{s['segments']['premium']['share']:.0%}",
                "mainstream": f"{s['segments']['mainstream']['share']:.0%}",
                "value": f"{s['segments']['value']['share']:.0%}",
                "traits": ", ".join(
                    f"{t} {v['share']:.0%}" for t, v in list(s["traits"].items())[:3]
                ),
                "advice": s["recommendation"]["text"],
            }
            for s in stores
        ],
        {
            "store": "store",
            "members": "members",
            "premium": "premium",
            "mainstream": "mainstream",
            "value": "value",
            "traits": "top traits",
            "advice": "recommendation",
        },
    )


@app.command("plot")
@handle_errors
def plot_command(
    output: Annotated[Path, typer.Argument(help="Picture to write (.png or .svg).")],
    store: StoreOpt = None,
    min_members: MinMembersOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Draw the value segments of each store with its recommendation."""
    if output.suffix.lower() not in (".png", ".svg"):
        raise ValidationError(output.name, "output", "must end in .png or .svg")
    stores = _mix(store, min_members)
    if not stores:
        raise ValidationError("storemix", "stores", "no store has home members yet")
    from memberops.storemix.plots import draw_store_mix

    draw_store_mix(stores, output)
    emit({"written": str(output)}, as_json=as_json, text=f"Wrote {output}")
