"""`memberops storemix show | plot`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from builders import prepare_analytics
from memberops.actor import Actor
from memberops.runtime import Runtime


def test_show_and_plot(
    seeded: Runtime, admin: Actor, cli: Callable[..., Any], tmp_path: Path
) -> None:
    prepare_analytics(seeded, admin)
    stores = json.loads(cli("storemix", "show", "--min-members", "1", "--json").stdout)
    assert {s["store_code"]: s["recommendation"]["code"] for s in stores} == {
        "BJ001": "promotions",
        "SH001": "premium_assortment",
    }
    one = json.loads(cli("storemix", "show", "--store", "SH001", "--json").stdout)
    assert [s["store_code"] for s in one] == ["SH001"]
    text = cli("storemix", "show", "--min-members", "1")
    assert "BJ001" in text.stdout and "Promotions" in text.stdout
    picture = tmp_path / "mix.svg"
    drawn = cli("storemix", "plot", str(picture), "--min-members", "1")
    assert drawn.exit_code == 0, drawn.output
    assert picture.read_text().startswith("<?xml")
    unknown = cli("storemix", "show", "--store", "XX999")
    assert unknown.exit_code == 66 and "XX999" in unknown.output
