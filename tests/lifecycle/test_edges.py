"""Lifecycle from the CLI and the API: runs, flows, cohorts, pictures, roles."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builders import drain_key_writes
from lifecycle.test_service import AS_OF, load_lifecycle_chain
from memberops.actor import Actor
from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

AS_OF_TEXT = AS_OF.replace(tzinfo=None).isoformat()


def _key(runtime: Runtime, role: str) -> dict[str, str]:
    with transaction(runtime.sessions) as session:
        _, secret = create_api_key(session, name=f"t {role}", role=role)
    return {"Authorization": f"Bearer {secret}"}


def test_cli_run_flows_cohorts_and_plots(
    seeded: Runtime, admin: Actor, cli: Callable[..., Any], tmp_path: Path
) -> None:
    load_lifecycle_chain(seeded, admin)
    run = cli("lifecycle", "run", "--as-of", AS_OF_TEXT, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["current"]["lapsed"] == 1
    flows = cli("lifecycle", "flows", "--since", "2026-05", "--json")
    assert {f["month"] for f in json.loads(flows.stdout)["flows"]} == {"2026-05", "2026-06"}
    cohorts = cli("lifecycle", "cohorts", "--json")
    assert json.loads(cohorts.stdout)["cohorts"][0]["size"] == 2
    for command in ("show", "flows", "cohorts"):
        assert cli("lifecycle", command).exit_code == 0
    png, svg = tmp_path / "flows.png", tmp_path / "cohorts.svg"
    assert cli("lifecycle", "plot", "--out", str(png)).exit_code == 0
    assert cli("lifecycle", "plot", "--out", str(svg), "--kind", "cohorts").exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text()
    assert cli("lifecycle", "plot", "--out", str(png), "--kind", "pie").exit_code == 65
    bad = cli("lifecycle", "flows", "--since", "May")
    assert bad.exit_code == 65 and "YYYY-MM" in bad.stderr
    wrong = cli("lifecycle", "run", "--active-days", "200")
    assert wrong.exit_code == 65 and "lapsed_days" in wrong.stderr


@pytest.mark.slow
def test_cli_runs_on_spark_like_on_duckdb(
    seeded: Runtime, admin: Actor, cli: Callable[..., Any], spark: Any
) -> None:
    """`--engine spark` end to end: the command opens its Spark engine like the pipeline's
    (here it finds the suite's running SparkSession) and stores what DuckDB stores."""
    load_lifecycle_chain(seeded, admin)
    stored: dict[str, list[Any]] = {}
    for engine in ("duckdb", "spark"):
        run = cli("lifecycle", "run", "--as-of", AS_OF_TEXT, "--engine", engine, "--json")
        assert run.exit_code == 0, run.output
        report = json.loads(run.stdout)
        assert report.pop("engine") == engine
        reads = [
            json.loads(cli("lifecycle", *command, "--json").stdout)
            for command in (("show",), ("flows", "--since", "2026-01"), ("cohorts",))
        ]
        stored[engine] = [report, reads]
    assert stored["spark"] == stored["duckdb"]
    assert stored["spark"][0]["current"]["lapsed"] == 1


def test_api_reads_by_role(seeded: Runtime, admin: Actor, cli: Callable[..., Any]) -> None:
    with use_clock(FixedClock(AS_OF)), TestClient(create_app(seeded)) as client:
        empty = client.get("/v1/lifecycle", headers=_key(seeded, "analyst"))
        assert empty.status_code == 404
        load_lifecycle_chain(seeded, admin)
        assert cli("lifecycle", "run", "--as-of", AS_OF_TEXT).exit_code == 0
        for role in ("admin", "manager", "marketer", "analyst"):
            headers = _key(seeded, role)
            now = client.get("/v1/lifecycle", headers=headers)
            assert now.status_code == 200, now.text
            assert now.json()["members"] == 3
            flows = client.get("/v1/lifecycle/flows", headers=headers).json()
            assert sum(f["members"] for f in flows["flows"] if f["month"] == "2026-06") == 3
            cohorts = client.get("/v1/lifecycle/cohorts", headers=headers).json()
            assert cohorts["cohorts"][0]["retention"][0]["share"] == 1.0
        for role in ("pos", "staff"):
            for path in ("", "/flows", "/cohorts"):
                assert (
                    client.get(f"/v1/lifecycle{path}", headers=_key(seeded, role)).status_code
                    == 403
                )
        bad = client.get("/v1/lifecycle/flows?since=2026-13", headers=_key(seeded, "admin"))
        assert bad.status_code == 422 and "since" in bad.text
    drain_key_writes()
