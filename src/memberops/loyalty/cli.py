"""`memberops tiers`, `memberops points` and `memberops ledger`: the loyalty commands.

Dates given as `YYYY-MM-DD` mean local midnight starting that day in the chain's time
zone (the active policy's `timezone`); a full ISO time with an offset is taken as is.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from memberops.cli.common import cli_actor, console, emit_json, handle_errors, open_cli_runtime
from memberops.db import transaction, utcnow
from memberops.errors import ValidationError
from memberops.loyalty import idempotency, service
from memberops.loyalty.rules import TierPolicy, parse_policy

__all__ = ["ledger_app", "points_app", "tiers_app"]

tiers_app = typer.Typer(
    help="Tiers: evaluate period ends, explain, simulate and manage the policy.",
    no_args_is_help=True,
)
policy_app = typer.Typer(help="The tier policy document.", no_args_is_help=True)
tiers_app.add_typer(policy_app, name="policy")
points_app = typer.Typer(
    help="Points: balances, redemptions, vouchers and partners.", no_args_is_help=True
)
ledger_app = typer.Typer(help="The points ledger.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _when(value: str | None, policy: TierPolicy, *, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), policy.zone)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("command line", name, "is not a date or ISO time") from None
    if parsed.tzinfo is None:
        raise ValidationError("command line", name, "needs an offset (or give a date)")
    return parsed


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(str(path), "file", exc.strerror or "cannot be read") from None


# ----------------------------------------------------------------------------- tiers
@policy_app.command("validate")
@handle_errors
def policy_validate(file: Path, as_json: JsonOpt = False) -> None:
    """Check a policy file; errors name the line and the problem (no database needed)."""
    policy = parse_policy(_read(file), source=file.name)
    summary = {
        "ok": True,
        "name": policy.name,
        "tiers": [t.code for t in policy.tiers],
        "timezone": policy.timezone,
        "window": policy.window,
        "period": policy.period,
    }
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"ok: {policy.name}, {' -> '.join(t.name for t in policy.tiers)}", highlight=False
        )


@policy_app.command("activate")
@handle_errors
def policy_activate(file: Path, as_json: JsonOpt = False) -> None:
    """Store a policy as a new version and make it the active one."""
    text = _read(file)
    parse_policy(text, source=file.name)
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        doc = service.activate_policy(session, text, actor=cli_actor())
        out = {"version": doc.version, "name": doc.name, "status": doc.status}
    if as_json:
        emit_json(out)
    else:
        console.print(f"active: version {out['version']} ({out['name']})", highlight=False)


@policy_app.command("show")
@handle_errors
def policy_show(as_json: JsonOpt = False) -> None:
    """The stored policy versions (newest first)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        history = service.policy_history(session)
    if as_json:
        emit_json(history)
        return
    table = Table("version", "name", "status", "activated")
    for row in history:
        table.add_row(str(row["version"]), row["name"], row["status"], row["activated_at"] or "")
    console.print(table)


@tiers_app.command("evaluate")
@handle_errors
def tiers_evaluate(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge the last period end up to this date.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The period-end job (idempotent: a second run for one period changes nothing)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        report = service.evaluate_tiers(
            session, as_of=_when(as_of, policy, name="as_of"), actor=cli_actor()
        )
        # Request keys older than 24 h are dead weight: the period-end job drops them.
        purged = idempotency.purge_expired_keys(session, now=utcnow())
    if as_json:
        emit_json({**report.to_dict(), "idempotency_keys_purged": purged})
    else:
        console.print(
            f"period end {report.period_end}: {report.evaluated} members judged, "
            + ", ".join(f"{k} {v}" for k, v in sorted(report.moves.items())),
            highlight=False,
        )


@tiers_app.command("explain")
@handle_errors
def tiers_explain(member: str, as_json: JsonOpt = False) -> None:
    """A member's tier, why, and what is still needed to keep it and reach the next."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        data = service.explain_tier(session, member_id=member)
    if as_json:
        emit_json(data)
        return
    console.print(f"{data['name']} ({data['tier']}) since {data['since']}", highlight=False)
    why = data["why"]
    console.print(f"why: {why['reason']} {why.get('metrics', {})}", highlight=False, markup=False)
    for key in ("to_keep", "to_reach_next"):
        need = data[key]
        if need:
            console.print(
                f"{key.replace('_', ' ')} {need['name']} by {data['deadline']}: "
                f"{need['spend_left_cents'] / 100:.2f} more, {need['visits_left']} more visits",
                highlight=False,
            )


@tiers_app.command("simulate")
@handle_errors
def tiers_simulate(
    policy: Annotated[Path, typer.Option("--policy", help="The proposed policy (TOML).")],
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    diff_out: Annotated[
        Path | None, typer.Option("--diff-out", help="Write the per-member diff as CSV.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay all history under a proposed policy against the active one (writes nothing)."""
    proposed = parse_policy(_read(policy), source=policy.name)
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, active = service.active_policy(session)
        result = service.simulate_policy(
            session, proposed, as_of=_when(as_of, active, name="as_of")
        )
    if diff_out is not None:
        diff_out.write_text(service.diff_csv(result), encoding="utf-8")
    if as_json:
        emit_json(result)
        return
    table = Table("tier", "active", "proposed")
    for code in sorted(set(result["tiers_active"]) | set(result["tiers_proposed"])):
        table.add_row(
            code,
            str(result["tiers_active"].get(code, 0)),
            str(result["tiers_proposed"].get(code, 0)),
        )
    console.print(table)
    console.print(f"up: {result['moves_up']}  down: {result['moves_down']}", highlight=False)
    cost = result["benefit_cost_12m_cents"]
    console.print(
        f"benefit cost over 12 months: {cost['active'] / 100:.2f} -> {cost['proposed'] / 100:.2f}",
        highlight=False,
    )


@tiers_app.command("override")
@handle_errors
def tiers_override(
    member: str,
    tier: Annotated[str, typer.Option("--tier")],
    until: Annotated[str, typer.Option("--until", help="Floor end date.")],
    reason: Annotated[str, typer.Option("--reason")],
    as_json: JsonOpt = False,
) -> None:
    """Set a manual tier that acts as a floor until a date (audited)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        end = _when(until, policy, name="until")
        assert end is not None
        data = service.set_tier_override(
            session, member_id=member, tier_code=tier, reason=reason, until=end, actor=cli_actor()
        )
    if as_json:
        emit_json(data)
    else:
        console.print(f"{member}: {data['name']} (floor until {until})", highlight=False)


# ----------------------------------------------------------------------------- points
@points_app.command("show")
@handle_errors
def points_show(
    member: str,
    history: Annotated[int, typer.Option("--history", min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Balance, open lots and history of a member."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        data = service.points_view(session, member_id=member, history=history)
    if as_json:
        emit_json(data)
        return
    console.print(
        f"balance {data['balance']}, owed {data['owed']}, spendable {data['spendable']}",
        highlight=False,
    )
    lots = Table("lot", "points", "remaining", "expires")
    for lot in data["lots"]:
        lots.add_row(lot["id"], str(lot["points"]), str(lot["remaining"]), lot["expires_at"])
    console.print(lots)
    entries = Table("type", "points", "counter", "source", "at")
    for e in data["history"]:
        entries.add_row(
            e["type"], str(e["points"]), e["counter_account"], e["source"], e["created_at"]
        )
    console.print(entries)


@points_app.command("expire")
@handle_errors
def points_expire(as_json: JsonOpt = False) -> None:
    """Expire every lot past its date, and every voucher past its date."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        points = service.expire_points(session, actor=cli_actor())
        vouchers = service.expire_vouchers(session)
    out = {"points_expired": points, "vouchers_expired": vouchers}
    emit_json(out) if as_json else console.print(str(out), highlight=False)


@points_app.command("convert")
@handle_errors
def points_convert(
    period: Annotated[str | None, typer.Option("--period", help="e.g. 2026Q4")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Convert points into vouchers (once per member and period)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        out = service.convert_vouchers(session, period=period, actor=cli_actor())
    emit_json(out) if as_json else console.print(str(out), highlight=False)


@points_app.command("statement")
@handle_errors
def points_statement(
    member: str,
    start: Annotated[str, typer.Option("--from")],
    end: Annotated[str, typer.Option("--to")],
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML page.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A member's statement: opening, movements, closing and vouchers."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        s, e = _when(start, policy, name="from"), _when(end, policy, name="to")
        assert s is not None and e is not None
        data = service.statement(session, member_id=member, start=s, end=e)
    if html is not None:
        html.write_text(service.statement_html(data), encoding="utf-8")
    emit_json(data) if as_json else console.print(str(data), highlight=False, markup=False)


@points_app.command("partner-rate")
@handle_errors
def points_partner_rate(
    partner: str,
    units_per_100_points: int,
    effective_from: Annotated[str, typer.Option("--from")],
) -> None:
    """Record a partner's exchange rate (units per 100 points) from a date on."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        at = _when(effective_from, policy, name="from")
        assert at is not None
        service.set_partner_rate(
            session, partner=partner, effective_from=at, units_per_100_points=units_per_100_points
        )
    console.print("ok", highlight=False)


@points_app.command("reconcile")
@handle_errors
def points_reconcile(
    partner: str,
    start: Annotated[str, typer.Option("--from")],
    end: Annotated[str, typer.Option("--to")],
    out: Annotated[Path, typer.Option("--out")],
) -> None:
    """Write a partner's reconciliation file (CSV with a closing total)."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        s, e = _when(start, policy, name="from"), _when(end, policy, name="to")
        assert s is not None and e is not None
        text = service.partner_reconciliation(session, partner=partner, start=s, end=e)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}", highlight=False)


# ----------------------------------------------------------------------------- ledger
@ledger_app.command("verify")
@handle_errors
def ledger_verify(as_json: JsonOpt = False) -> None:
    """Prove every balance equals its entries and every lot its earn minus its consumption."""
    runtime = open_cli_runtime()
    with transaction(runtime.sessions) as session:
        result = service.verify_ledger(session)
    if as_json:
        emit_json(result.to_dict())
    else:
        status = "[green]ok[/green]" if result.ok else "[red]FAILED[/red]"
        console.print(
            f"{status}: {result.accounts} accounts, {result.entries} entries, {result.lots} lots"
        )
        for problem in result.problems[:50]:
            console.print(f"  {problem}", highlight=False, markup=False)
    if not result.ok:
        raise typer.Exit(1)
