"""`memberops campaigns` and `memberops coupons` against the test database."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import CliResult
from tests.loyalty.conftest import dinner, load, member_of

from memberops.runtime import Runtime


def test_campaign_commands(seeded: Runtime, cli: Callable[..., CliResult]) -> None:
    created = cli(
        "campaigns",
        "create",
        "DOUBLE",
        "--name",
        "Double points",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--multiplier-pct",
        "200",
        "--days",
        "wed,thu",
        "--json",
    )
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["valid_to_local"] == "2026-04-01T00:00:00+08:00"
    listed = json.loads(cli("campaigns", "list", "--json").stdout)
    assert [c["code"] for c in listed] == ["DOUBLE"] and listed[0]["bonus"] == "x2"
    assert "DOUBLE" in cli("campaigns", "list").output
    shown = json.loads(cli("campaigns", "show", "DOUBLE", "--json").stdout)
    assert shown["definition"]["days"] == ["wed", "thu"]
    ended = json.loads(cli("campaigns", "end", "DOUBLE", "--json").stdout)
    assert ended["status"] == "ended" and len(ended["history"]) == 2
    again = cli("campaigns", "end", "DOUBLE")
    assert again.exit_code != 0 and "already ended" in again.output
    assert "Traceback" not in again.output
    bad = cli(
        "campaigns", "create", "X", "--name", "X", "--from", "2026-03-01", "--to", "2026-03-31"
    )
    assert bad.exit_code != 0 and "bonus" in bad.output and "Traceback" not in bad.output
    missing = cli("campaigns", "show", "NOPE")
    assert missing.exit_code != 0 and "not found" in missing.output


def test_coupon_commands(seeded: Runtime, cli: Callable[..., CliResult]) -> None:
    load(seeded, dinner("1", cents=30000))
    with seeded.sessions() as session:
        m = member_of(session, "1")
    defined = cli(
        "coupons",
        "define",
        "MEAT10",
        "--name",
        "10% off meat",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--percent-bp",
        "1000",
        "--categories",
        "meats",
        "--min-spend-cents",
        "4000",
        "--json",
    )
    assert defined.exit_code == 0, defined.output
    issued = json.loads(cli("coupons", "issue", "MEAT10", "--member", m, "--json").stdout)
    assert issued["issued"] == 1
    text = cli("coupons", "issue", "MEAT10", "--tiers", "red")
    assert text.exit_code == 0 and "0 issued, 1 already at the per-member limit" in text.output
    shown = json.loads(cli("coupons", "show", "MEAT10", "--json").stdout)
    assert (shown["issued"], shown["redeemed"]) == (1, 0)
    assert json.loads(cli("coupons", "list", "--json").stdout)[0]["code"] == "MEAT10"
    mine = json.loads(cli("coupons", "list", "--member", m, "--json").stdout)
    assert mine[0]["code"] == issued["codes"][0]
    both = cli(
        "coupons", "define", "X", "--name", "X", "--from", "2026-03-01", "--to", "2026-03-31"
    )
    assert both.exit_code != 0 and "exactly one" in both.output
