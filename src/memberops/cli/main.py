"""The `memberops` command line: the root app, assembled from each capability's commands.

Each capability's commands live in its own `cli.py`; this module only mounts them. A new
group is one `app.add_typer(...)` line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from memberops.apikeys import cli as apikeys_cli
from memberops.baskets import cli as baskets_cli
from memberops.catalog import cli as catalog_cli
from memberops.cli import init as init_cmd
from memberops.cli.common import handle_errors, open_cli_runtime, set_debug
from memberops.clv import cli as clv_cli
from memberops.concentration import cli as concentration_cli
from memberops.cycles import cli as cycles_cli
from memberops.demo import cli as demo_cli
from memberops.fans import cli as fans_cli
from memberops.identity import cli as identity_cli
from memberops.labels import cli as labels_cli
from memberops.lifecycle import cli as lifecycle_cli
from memberops.lifestyle import cli as lifestyle_cli
from memberops.loyalty import campaign_cli
from memberops.loyalty import cli as loyalty_cli
from memberops.members import cli as members_cli
from memberops.orders import cli as orders_cli
from memberops.pipeline import cli as pipeline_cli
from memberops.privacy import cli as privacy_cli
from memberops.rfm import cli as rfm_cli
from memberops.segments import cli as segments_cli
from memberops.servicedesk import cli as servicedesk_cli
from memberops.storemix import cli as storemix_cli
from memberops.web import cli as web_cli

__all__ = ["app"]

app = typer.Typer(
    help="memberops: one profile per member across every channel, privacy from the first row.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# `memberops import <kind> FILE`: each capability that loads files adds its command here.
import_app = typer.Typer(help="Import orders, refunds, events and consents.", no_args_is_help=True)
import_app.command("orders")(orders_cli.import_orders)
import_app.command("stores")(catalog_cli.import_stores_file)
import_app.command("catalog")(catalog_cli.import_catalog)


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Print the traceback of unexpected errors.")
    ] = False,
) -> None:
    """memberops: one profile per member across every channel, privacy from the first row."""
    set_debug(debug)


app.command("init")(init_cmd.init)
app.command("demo")(demo_cli.demo)
app.add_typer(import_app, name="import")
app.add_typer(members_cli.app, name="members")
app.add_typer(identity_cli.app, name="identity")
app.add_typer(privacy_cli.keys_app, name="keys")
app.add_typer(privacy_cli.audit_app, name="audit")
app.add_typer(privacy_cli.consent_app, name="consent")
app.add_typer(apikeys_cli.app, name="apikeys")
app.add_typer(labels_cli.app, name="labels")
app.add_typer(pipeline_cli.app, name="pipeline")
app.add_typer(pipeline_cli.export_app, name="export")
app.add_typer(clv_cli.app, name="clv")
app.add_typer(cycles_cli.app, name="cycles")
app.add_typer(fans_cli.app, name="fans")
app.add_typer(lifestyle_cli.app, name="lifestyle")
app.add_typer(storemix_cli.app, name="storemix")
app.add_typer(baskets_cli.app, name="baskets")
app.add_typer(rfm_cli.app, name="rfm")
app.add_typer(concentration_cli.app, name="concentration")
app.add_typer(lifecycle_cli.app, name="lifecycle")
app.add_typer(servicedesk_cli.app, name="servicedesk")
app.add_typer(segments_cli.app, name="segments")
app.add_typer(web_cli.app, name="staff")
app.add_typer(loyalty_cli.tiers_app, name="tiers")
app.add_typer(loyalty_cli.points_app, name="points")
app.add_typer(loyalty_cli.ledger_app, name="ledger")
app.add_typer(campaign_cli.campaigns_app, name="campaigns")
app.add_typer(campaign_cli.coupons_app, name="coupons")

# The server waits at most this long for a lock or connection, then answers 503.
SERVER_LOCK_TIMEOUT_S = 5.0


@app.command()
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Serve the API on the given address (127.0.0.1 by default)."""
    demo_cli.serve_with_banner(
        open_cli_runtime(lock_timeout_s=SERVER_LOCK_TIMEOUT_S), host, port, seed_keys=False
    )
