"""`memberops lifestyle run | show | validate | plot`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from builders import ANALYTICS_AS_OF, load_fan_chain
from memberops.actor import Actor
from memberops.runtime import Runtime

AS_OF = ANALYTICS_AS_OF[:19]

SENSITIVE = """basis = "spend"

[[traits]]
id = "family_with_children"
label = "Family with children"
categories = ["kids"]

[[traits]]
id = "pregnant_guests"
label = "Expecting"
categories = ["desserts"]
"""


def test_run_show_and_plot(
    seeded: Runtime, admin: Actor, cli: Callable[..., Any], tmp_path: Path
) -> None:
    load_fan_chain(seeded, admin)
    run = cli("lifestyle", "run", "--as-of", AS_OF, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["traits"]["premium"] == 1
    show = json.loads(cli("lifestyle", "show", "--json").stdout)
    assert show["members_scored"] == 4
    assert "health_conscious" in cli("lifestyle", "show").stdout
    picture = tmp_path / "traits.png"
    drawn = cli("lifestyle", "plot", str(picture))
    assert drawn.exit_code == 0, drawn.output
    assert picture.stat().st_size > 1000


def test_run_with_a_custom_mapping(
    seeded: Runtime, admin: Actor, cli: Callable[..., Any], tmp_path: Path
) -> None:
    load_fan_chain(seeded, admin)
    mapping = tmp_path / "kids.toml"
    kids_only = SENSITIVE.split('\n[[traits]]\nid = "pregnant')[0]
    mapping.write_text("threshold = 0.1\n" + kids_only)
    run = cli("lifestyle", "run", "--mapping", str(mapping), "--as-of", AS_OF, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["traits"] == {"family_with_children": 1}


def test_validate_refuses_a_sensitive_trait_with_its_line(
    seeded: Runtime, cli: Callable[..., Any], tmp_path: Path
) -> None:
    mapping = tmp_path / "mine.toml"
    mapping.write_text(SENSITIVE)
    result = cli("lifestyle", "validate", str(mapping))
    assert result.exit_code == 65
    assert "mine.toml line 9" in result.output
    assert "traits[1].id" in result.output
    assert "pregnancy" in result.output
    as_json = json.loads(cli("lifestyle", "validate", str(mapping), "--json").stdout)
    assert as_json["details"][0]["record"] == "mine.toml line 9"
    # The same file is refused by `run` before anything is read or stored.
    refused = cli("lifestyle", "run", "--mapping", str(mapping))
    assert refused.exit_code == 65
    missing = cli("lifestyle", "validate", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 65 and "file not found" in missing.output


def test_validate_accepts_the_shipped_mapping(cli: Callable[..., Any]) -> None:
    from importlib import resources

    shipped = resources.files("memberops.lifestyle").joinpath("mapping.toml")
    result = cli("lifestyle", "validate", str(shipped), "--json")
    assert result.exit_code == 0, result.output
    assert "family_with_children" in json.loads(result.stdout)["traits"]
