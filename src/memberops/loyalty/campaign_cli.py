"""`memberops campaigns` and `memberops coupons`: campaign bonuses and coupons.

Times without an offset are the chain's local time (the active policy's `timezone`); a
date alone means local midnight starting it (`--from`) or ending it (`--to`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from memberops.cli.common import cli_actor, console, emit_json, handle_errors, open_cli_runtime
from memberops.db import transaction, utcnow
from memberops.loyalty import campaigns, coupons, service

__all__ = ["campaigns_app", "coupons_app"]

campaigns_app = typer.Typer(help="Campaign bonuses on earned points.", no_args_is_help=True)
coupons_app = typer.Typer(help="Coupons: define, issue to members, list.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ListOpt = Annotated[list[str] | None, typer.Option(help="Repeat or separate with commas.")]


def _listed(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _show(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if key not in ("history", "definition", "codes"):
            console.print(f"{key}: {value}", highlight=False)


# ----------------------------------------------------------------------------- campaigns
@campaigns_app.command("create")
@handle_errors
def campaigns_create(
    code: str,
    name: Annotated[str, typer.Option("--name", help="Name shown in points history.")],
    valid_from: Annotated[str, typer.Option("--from", help="Local date or ISO time.")],
    valid_to: Annotated[str, typer.Option("--to", help="Local date (inclusive) or ISO time.")],
    multiplier_pct: Annotated[
        int | None, typer.Option("--multiplier-pct", help="200 = double points.")
    ] = None,
    fixed_points: Annotated[
        int | None, typer.Option("--fixed-points", help="Points added per order.")
    ] = None,
    stores: ListOpt = None,
    tiers: ListOpt = None,
    days: Annotated[list[str] | None, typer.Option(help="mon..sun, local.")] = None,
    min_spend_cents: Annotated[int | None, typer.Option("--min-spend-cents")] = None,
    categories: ListOpt = None,
    skus: ListOpt = None,
    member_cap_points: Annotated[
        int | None, typer.Option("--member-cap-points", help="Most bonus points per member.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a campaign bonus."""
    doc: dict[str, Any] = {
        "code": code,
        "name": name,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "multiplier_pct": multiplier_pct,
        "fixed_points": fixed_points,
        "stores": _listed(stores),
        "tiers": _listed(tiers),
        "days": _listed(days),
        "min_spend_cents": min_spend_cents,
        "categories": _listed(categories),
        "skus": _listed(skus),
        "member_cap_points": member_cap_points,
    }
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        doc = {k: v for k, v in doc.items() if v not in (None, [])}
        campaign = campaigns.create_campaign(session, doc, policy=policy, actor=cli_actor())
        data = campaigns.campaign_view(session, campaign, policy.zone)
    _show(data, as_json)


@campaigns_app.command("list")
@handle_errors
def campaigns_list(
    status: Annotated[str | None, typer.Option(help="active or ended.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Campaigns, newest first."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        rows = campaigns.list_campaigns(session, policy.zone, status=status)
    if as_json:
        emit_json(rows)
        return
    table = Table("code", "name", "status", "from (local)", "to (local)", "bonus", "min spend")
    for r in rows:
        table.add_row(
            r["code"],
            r["name"],
            r["status"],
            r["valid_from_local"],
            r["valid_to_local"],
            r["bonus"],
            f"{r['min_spend_cents'] / 100:.2f}",
        )
    console.print(table)


@campaigns_app.command("show")
@handle_errors
def campaigns_show(code: str, as_json: JsonOpt = False) -> None:
    """A campaign, its history and how often it applied."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        data = campaigns.campaign_view(
            session, campaigns.get_campaign_or_raise(session, code), policy.zone
        )
    _show(data, as_json)


@campaigns_app.command("end")
@handle_errors
def campaigns_end(code: str, as_json: JsonOpt = False) -> None:
    """End a campaign now (kept in its history)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        campaign = campaigns.end_campaign(session, code, actor=cli_actor())
        data = campaigns.campaign_view(session, campaign, policy.zone)
    _show(data, as_json)


# ----------------------------------------------------------------------------- coupons
@coupons_app.command("define")
@handle_errors
def coupons_define(
    code: str,
    name: Annotated[str, typer.Option("--name")],
    valid_from: Annotated[str, typer.Option("--from", help="Local date or ISO time.")],
    valid_to: Annotated[str, typer.Option("--to", help="Local date (inclusive) or ISO time.")],
    percent_bp: Annotated[
        int | None, typer.Option("--percent-bp", help="1000 = 10% off eligible items.")
    ] = None,
    amount_cents: Annotated[int | None, typer.Option("--amount-cents", help="Fixed off.")] = None,
    min_spend_cents: Annotated[int | None, typer.Option("--min-spend-cents")] = None,
    categories: ListOpt = None,
    skus: ListOpt = None,
    per_member_limit: Annotated[int | None, typer.Option("--per-member-limit")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Define a coupon: give exactly one of --percent-bp and --amount-cents."""
    if (percent_bp is None) == (amount_cents is None):
        console.print("error: give exactly one of --percent-bp and --amount-cents")
        raise typer.Exit(2)
    doc: dict[str, Any] = {
        "code": code,
        "name": name,
        "kind": "percent" if percent_bp is not None else "fixed",
        "value": percent_bp if percent_bp is not None else amount_cents,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "min_spend_cents": min_spend_cents,
        "categories": _listed(categories),
        "skus": _listed(skus),
        "per_member_limit": per_member_limit,
    }
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        doc = {k: v for k, v in doc.items() if v not in (None, [])}
        definition = coupons.define_coupon(session, doc, zone=policy.zone, actor=cli_actor())
        data = coupons.definition_view(session, definition, policy.zone)
    _show(data, as_json)


@coupons_app.command("issue")
@handle_errors
def coupons_issue(
    code: str,
    members: Annotated[
        list[str] | None, typer.Option("--member", help="Member id (repeat, or commas).")
    ] = None,
    tiers: ListOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue personalised coupons to members and/or every member of some tiers."""
    runtime = open_cli_runtime()
    with (
        console.status("issuing coupons..."),
        transaction(runtime.sessions) as session,
    ):
        _, policy = service.active_policy(session)
        report = coupons.issue_coupons(
            session,
            code,
            member_ids=_listed(members),
            tiers=_listed(tiers),
            policy=policy,
            actor=cli_actor(),
        )
    if as_json:
        emit_json(dict(report))
    else:
        console.print(
            f"{report['definition']}: {report['issued']} issued, "
            f"{report['at_limit']} already at the per-member limit",
            highlight=False,
        )


@coupons_app.command("list")
@handle_errors
def coupons_list(
    member: Annotated[str | None, typer.Option("--member", help="A member's coupons.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Coupon definitions with counts, or one member's coupons."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        if member is not None:
            rows = coupons.member_coupons(session, member, at=utcnow())
        else:
            rows = coupons.list_definitions(session, policy.zone)
    if as_json:
        emit_json(rows)
        return
    if member is not None:
        table = Table("code", "definition", "status", "valid to")
        for r in rows:
            table.add_row(r["code"], r["definition"], r["status"], r["valid_to"])
    else:
        table = Table("code", "name", "from (local)", "to (local)", "issued", "redeemed")
        for r in rows:
            table.add_row(
                r["code"],
                r["name"],
                r["valid_from_local"],
                r["valid_to_local"],
                str(r["issued"]),
                str(r["redeemed"]),
            )
    console.print(table)


@coupons_app.command("show")
@handle_errors
def coupons_show(code: str, as_json: JsonOpt = False) -> None:
    """A coupon definition with its counts."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        data = coupons.definition_view(
            session, coupons.get_definition_or_raise(session, code), policy.zone
        )
    _show(data, as_json)
