"""`memberops tiers`, `points` and `ledger` commands against the test database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.loyalty.conftest import dinner, load, member_of, refund

from memberops.loyalty.rules import DEFAULT_POLICY_TOML
from memberops.runtime import Runtime


def test_policy_validate_names_the_line(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_POLICY_TOML.replace('window = "rolling_12_months"', 'window = "x"'))
    result = cli("tiers", "policy", "validate", str(bad))
    assert result.exit_code != 0 and "bad.toml line 6" in result.output
    good = tmp_path / "good.toml"
    good.write_text(DEFAULT_POLICY_TOML)
    assert cli("tiers", "policy", "validate", str(good)).exit_code == 0


def test_points_tiers_and_ledger_commands(
    seeded: Runtime, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    load(seeded, dinner("1", cents=30000), refund("R1", "1", 10000))
    with seeded.sessions() as session:
        m = member_of(session, "1")
    shown = json.loads(cli("points", "show", m, "--json").stdout)
    assert shown["balance"] == 200 and len(shown["history"]) == 2
    verify = json.loads(cli("ledger", "verify", "--json").stdout)
    assert verify["ok"] is True and verify["entries"] == 2
    explain = json.loads(cli("tiers", "explain", m, "--json").stdout)
    assert explain["tier"] == "red"
    policy = tmp_path / "p.toml"
    policy.write_text(
        DEFAULT_POLICY_TOML.replace("min_spend_cents = 200000", "min_spend_cents = 10000")
    )
    diff = tmp_path / "diff.csv"
    sim = json.loads(
        cli("tiers", "simulate", "--policy", str(policy), "--diff-out", str(diff), "--json").stdout
    )
    assert sim["members"] == 1
    assert diff.read_text().startswith("member_id,")
    first = json.loads(cli("tiers", "evaluate", "--as-of", "2027-01-01", "--json").stdout)
    second = json.loads(cli("tiers", "evaluate", "--as-of", "2027-01-01", "--json").stdout)
    # A Red Sea member has nothing to lose: the job judges members above the base tier.
    assert first["evaluated"] == second["evaluated"] == 0
    converted = json.loads(cli("points", "convert", "--period", "2026Q1", "--json").stdout)
    assert converted["points"] == 200
    html = tmp_path / "s.html"
    statement = cli(
        "points",
        "statement",
        m,
        "--from",
        "2026-01-01",
        "--to",
        "2027-01-01",
        "--html",
        str(html),
        "--json",
    )
    assert json.loads(statement.stdout)["closing"] == 0 and "Points statement" in html.read_text()
