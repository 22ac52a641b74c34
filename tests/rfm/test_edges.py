"""RFM from the CLI and the API: runs, reads, pictures, roles."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from builders import SPEND_CHAIN_AS_OF, audit_actions, drain_key_writes, load_spend_chain
from memberops.actor import Actor
from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

AS_OF = SPEND_CHAIN_AS_OF.replace(tzinfo=None).isoformat()


@pytest.fixture
def chain(seeded: Runtime, admin: Actor) -> dict[int, str]:
    return load_spend_chain(seeded, admin)


@pytest.fixture
def client(seeded: Runtime) -> Iterator[TestClient]:
    with use_clock(FixedClock(SPEND_CHAIN_AS_OF)), TestClient(create_app(seeded)) as c:
        yield c
    drain_key_writes()


def _key(runtime: Runtime, role: str, **scope: Any) -> dict[str, str]:
    with transaction(runtime.sessions) as session:
        _, secret = create_api_key(session, name=f"t {role}", role=role, **scope)
    return {"Authorization": f"Bearer {secret}"}


def test_cli_runs_shows_and_draws(
    chain: dict[int, str], cli: Callable[..., Any], tmp_path: Path
) -> None:
    result = cli("rfm", "run", "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["segments"]["champions"] == 1
    every = cli("rfm", "run", "--every-store", "--as-of", AS_OF, "--json")
    assert sorted(s["store"] for s in json.loads(every.stdout)["stores"]) == ["BJ001", "SH001"]
    shown = cli("rfm", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["members"] == 5
    text = cli("rfm", "show", "--store", "SH001")
    assert text.exit_code == 0 and "loyal" in text.stdout
    png, svg = tmp_path / "grid.png", tmp_path / "grid.svg"
    assert cli("rfm", "plot", "--out", str(png)).exit_code == 0
    assert cli("rfm", "plot", "--out", str(svg), "--store", "SH001").exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text()


@pytest.mark.slow
def test_cli_runs_on_spark_like_on_duckdb(
    chain: dict[int, str], cli: Callable[..., Any], spark: Any
) -> None:
    """`--engine spark` end to end: the command opens its Spark engine like the pipeline's
    (here it finds the suite's running SparkSession) and stores what DuckDB stores."""
    stored: dict[str, list[Any]] = {}
    for engine in ("duckdb", "spark"):
        run = cli("rfm", "run", "--every-store", "--as-of", AS_OF, "--engine", engine, "--json")
        assert run.exit_code == 0, run.output
        report = json.loads(run.stdout)
        assert report["engine"] == engine
        assert {s["engine"] for s in report["stores"]} == {engine}
        shown = [
            json.loads(cli("rfm", "show", *store, "--json").stdout)
            for store in ((), ("--store", "BJ001"), ("--store", "SH001"))
        ]
        stored[engine] = [report["segments"], [s["segments"] for s in report["stores"]], shown]
    assert stored["spark"] == stored["duckdb"]
    assert stored["spark"][0]["champions"] == 1


def test_cli_errors_are_clear(seeded: Runtime, cli: Callable[..., Any], tmp_path: Path) -> None:
    missing = cli("rfm", "show")
    assert missing.exit_code == 66 and "rfm run" in missing.stderr
    assert "Traceback" not in missing.output
    bad_store = cli("rfm", "run", "--store", "XX999")
    assert bad_store.exit_code == 66 and "XX999" in bad_store.stderr
    bad_out = cli("rfm", "plot", "--out", str(tmp_path / "grid.gif"))
    assert bad_out.exit_code == 65 and ".png or .svg" in bad_out.stderr
    bad_engine = cli("rfm", "run", "--engine", "oracle")
    assert bad_engine.exit_code == 65


def test_api_grid_for_readers_and_403_for_pos_and_staff(
    seeded: Runtime, chain: dict[int, str], cli: Callable[..., Any], client: TestClient
) -> None:
    assert cli("rfm", "run", "--as-of", AS_OF).exit_code == 0
    assert cli("rfm", "run", "--store", "SH001", "--as-of", AS_OF).exit_code == 0
    for role in ("admin", "marketer", "analyst"):
        response = client.get("/v1/rfm", headers=_key(seeded, role))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["members"] == 5 and body["grid"]["members"][4][4] == 1
    for role in ("pos", "staff"):
        assert client.get("/v1/rfm", headers=_key(seeded, role)).status_code == 403
    manager = _key(seeded, "manager", store_code="SH001")
    own = client.get("/v1/rfm", headers=manager)
    assert own.status_code == 200 and own.json()["store"] == "SH001"
    assert client.get("/v1/rfm?store=BJ001", headers=manager).status_code == 403
    assert client.get("/v1/rfm?store=XX999", headers=_key(seeded, "admin")).status_code == 404


def test_member_rfm_shows_pseudonyms_to_marketers(
    seeded: Runtime, chain: dict[int, str], cli: Callable[..., Any], client: TestClient
) -> None:
    assert cli("rfm", "run", "--as-of", AS_OF).exit_code == 0
    member = chain[0]
    admin = client.get(f"/v1/members/{member}/rfm", headers=_key(seeded, "admin"))
    assert admin.status_code == 200, admin.text
    assert admin.json()["member"] == member
    assert admin.json()["scores"][0]["segment"] == "champions"
    marketer = client.get(f"/v1/members/{member}/rfm", headers=_key(seeded, "marketer"))
    assert marketer.status_code == 200
    body = marketer.json()
    assert body["member"].startswith("p_") and member not in json.dumps(body)
    with transaction(seeded.sessions) as session:
        assert "member.rfm" in audit_actions(session, member)
    for role in ("pos", "staff", "manager"):
        denied = client.get(f"/v1/members/{member}/rfm", headers=_key(seeded, role))
        assert denied.status_code == 403
    unknown = client.get("/v1/members/" + "0" * 26 + "/rfm", headers=_key(seeded, "admin"))
    assert unknown.status_code == 404
