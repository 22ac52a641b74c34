"""`memberops demo`: generate the demo chain, load it through the real ingestion path,
derive service needs, then serve the API with a fresh admin key."""

from __future__ import annotations

import socket
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from memberops import clock
from memberops.apikeys.service import create_api_key
from memberops.cli.common import (
    JsonOpt,
    console,
    emit,
    handle_errors,
    open_cli_runtime,
    progress,
)
from memberops.concentration.service import run_concentration
from memberops.db import transaction
from memberops.demo.load import load_demo, reset_demo_database
from memberops.errors import ConfigurationError, Conflict
from memberops.fans.service import FanRunReport, run_fan_levels
from memberops.identity.repository import identifiers_of
from memberops.labels.pipeline import refresh_service_needs
from memberops.lifecycle.service import run_lifecycle
from memberops.lifestyle.service import run_lifestyle
from memberops.members.models import Member, MemberStatus
from memberops.pipeline.runner import run_refresh
from memberops.rfm.service import run_rfm, run_rfm_stores
from memberops.runtime import Runtime

__all__ = ["demo", "run_member_analytics", "serve_with_banner"]


def run_member_analytics(runtime: Runtime) -> FanRunReport:
    """RFM (chain-wide and in every store), revenue concentration, lifecycle, fan levels
    and lifestyle traits as of now (one transaction), so their routes and pictures have
    data from the start; returns the fan-level run for the summary."""
    now = clock.now()
    with transaction(runtime.sessions) as session:
        run_rfm(session, now=now)
        run_rfm_stores(session, now=now)
        run_concentration(session, now=now)
        run_lifecycle(session, now=now)
        fans = run_fan_levels(session, as_of=now)
        run_lifestyle(session, as_of=now)
    return fans


@handle_errors
def demo(
    members: Annotated[
        int, typer.Option(min=1000, max=1_000_000, help="Members to simulate.")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same chain).")] = 7,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months of history.")] = 24,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load only; do not serve.")] = False,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    reset: Annotated[
        bool, typer.Option("--reset", help="Replace a database that already holds data.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate the demo chain, load it through the real ingestion path, then serve."""
    if not no_serve:
        check_port_free(host, port)  # before minutes of loading, not after
    runtime = open_cli_runtime()
    if not reset and holds_data(runtime):
        raise Conflict(
            "the database already holds members; `memberops demo --reset` replaces them "
            "(keys printed before stop working), `memberops serve` serves them as they are"
        )
    reset_demo_database(runtime)
    with progress() as bar:
        task = bar.add_task("simulating and loading members", total=members)
        summary = load_demo(
            runtime,
            members=members,
            seed=seed,
            months=months,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        bar.update(task, completed=members)
        labels_task = bar.add_task("deriving service needs from orders", total=None)
        labelled = refresh_service_needs(
            runtime,
            on_progress=lambda done, total: bar.update(labels_task, completed=done, total=total),
        )
        bar.add_task("computing member and store profiles", total=None)
        profiles = run_refresh(runtime, full=True)
        bar.add_task("scoring RFM, concentration, lifecycle, fan levels and lifestyles", total=None)
        fans = run_member_analytics(runtime)
    emit(
        {
            **summary.__dict__,
            "service_need_labels": labelled["active_labels"],
            "profiles": profiles.members_refreshed,
            "fan_levels": fans.levels,
        },
        as_json=as_json,
        text=f"Loaded {summary.orders:,} orders from {summary.records:,} records in "
        f"{summary.seconds:.1f} s: {summary.members_created:,} members created, "
        f"{summary.merges:,} merges, {summary.reviews:,} review cases; "
        f"{labelled['active_labels']:,} service-need labels derived from order modifiers; "
        f"{profiles.members_refreshed:,} member profiles computed; fan levels: "
        + ", ".join(f"{n:,} {level}" for level, n in fans.levels.items())
        + ".",
    )
    with transaction(runtime.sessions) as session:
        _key, secret = create_api_key(session, name="demo admin", role="admin")
        # Synthetic values, but still printed only for a person at the terminal: a
        # scripted load (--no-serve) keeps identifiers out of its logs.
        samples = [] if no_serve else sample_lookups(session, runtime)
    console.print(f"Demo admin API key (shown once): [bold]{secret}[/bold]")
    if samples:
        console.print("Try a front-desk lookup with one of these (they exist in the demo):")
        for value in samples:
            console.print(f"  GET /v1/members?query={value}")
    if not no_serve:
        serve_with_banner(runtime, host, port, seed_keys=False)


def check_port_free(host: str, port: int) -> None:
    """ConfigurationError naming the port when something already listens on it."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise ConfigurationError(
                f"port {port} on {host} is already in use; choose another with --port"
            ) from None


def holds_data(runtime: Runtime) -> bool:
    """Whether the database already holds members (a previous demo or real data)."""
    try:
        with transaction(runtime.sessions) as session:
            return session.scalar(select(Member.id).limit(1)) is not None
    except SQLAlchemyError:  # no schema yet
        return False


def sample_lookups(session: Session, runtime: Runtime, count: int = 3) -> list[str]:
    """A few phones and cards that exist, for a first lookup."""
    out: list[str] = []
    for member_id in session.scalars(
        select(Member.id).where(Member.status == MemberStatus.ACTIVE).order_by(Member.id).limit(20)
    ):
        for ident in identifiers_of(session, runtime.keyring, member_id, masked=False):
            if ident["kind"] in ("phone", "card_no"):
                out.append(str(ident["value"]))
                break
        if len(out) >= count:
            break
    return out


def serve_with_banner(runtime: Runtime, host: str, port: int, *, seed_keys: bool) -> None:
    """Print where the API answers (and a fresh admin key for the demo), then serve."""
    if seed_keys:
        with transaction(runtime.sessions) as session:
            _key, secret = create_api_key(session, name="demo admin", role="admin")
        console.print(f"Demo admin API key (shown once): [bold]{secret}[/bold]")
    console.print(
        f"memberops is serving on [bold]http://{host}:{port}/v1[/bold]"
        f" (health: http://{host}:{port}/v1/health)"
    )
    console.print(
        f"Console: [bold]http://{host}:{port}/[/bold] (sign in with an API key or a staff"
        " account from `memberops staff create`)"
    )
    # Imported here, not at the top: FastAPI and uvicorn cost every other command about a
    # second of start-up (the kill-and-resume test of key rotation races that start-up).
    # import-linter still sees this edge (demo.cli -> api.server, both assembly).
    from memberops.api.server import run_server

    run_server(runtime, host, port)
