"""`memberops fans run | show | top | plot` on the fan chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from builders import ANALYTICS_AS_OF, load_fan_chain
from memberops.actor import Actor
from memberops.runtime import Runtime

AS_OF = ANALYTICS_AS_OF[:19]


def test_run_show_top_and_plot(
    seeded: Runtime, admin: Actor, cli: Callable[..., Any], tmp_path: Path
) -> None:
    ids = load_fan_chain(seeded, admin)
    shown = cli("fans", "show")
    assert shown.exit_code == 65 and "fans run" in shown.output  # nothing yet: says what to do
    run = cli("fans", "run", "--as-of", AS_OF, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["levels"] == {"hardcore": 1, "general": 2, "silent": 1}
    show = cli("fans", "show", "--json")
    assert json.loads(show.stdout)["members"] == 4
    text = cli("fans", "show")
    assert "hardcore" in text.stdout and "25.0%" in text.stdout
    top = json.loads(cli("fans", "top", "--limit", "2", "--json").stdout)
    assert [r["member_id"] for r in top] == [ids["A"], ids["B"]]
    assert top[0]["referred_revenue_cents"] == 15_000
    for name in ("fans.png", "fans.svg"):
        picture = tmp_path / name
        drawn = cli("fans", "plot", str(picture))
        assert drawn.exit_code == 0, drawn.output
        assert picture.stat().st_size > 1000


def test_errors_are_clear(seeded: Runtime, cli: Callable[..., Any], tmp_path: Path) -> None:
    bad = cli("fans", "run", "--engine", "sqlite")
    assert bad.exit_code == 65 and "--engine" in bad.output
    assert "Traceback" not in bad.output
    pg = cli("fans", "run", "--engine", "postgres")
    if "sqlite" in str(seeded.settings.database_url):
        assert pg.exit_code == 65 and "PostgreSQL" in pg.output
    wrong = cli("fans", "plot", str(tmp_path / "fans.gif"))
    assert wrong.exit_code == 65 and "png" in wrong.output
