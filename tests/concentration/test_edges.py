"""Revenue concentration from the CLI and the API: reads, top list, pictures, roles."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builders import SPEND_CHAIN_AS_OF, drain_key_writes, load_spend_chain
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
def chain(seeded: Runtime, admin: Actor, cli: Callable[..., Any]) -> dict[int, str]:
    ids = load_spend_chain(seeded, admin)
    result = cli("concentration", "run", "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scopes"]["chain"]["members"] == 5
    return ids


def _key(runtime: Runtime, role: str, **scope: Any) -> dict[str, str]:
    with transaction(runtime.sessions) as session:
        _, secret = create_api_key(session, name=f"t {role}", role=role, **scope)
    return {"Authorization": f"Bearer {secret}"}


def test_cli_show_top_and_plot(
    chain: dict[int, str], cli: Callable[..., Any], tmp_path: Path
) -> None:
    shown = cli("concentration", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["top20_members"] == 1
    assert "Gini" in cli("concentration", "show", "--store", "SH001").stdout
    top = cli("concentration", "top", "--share", "0.4", "--json")
    assert [m["member_id"] for m in json.loads(top.stdout)["members"]] == [chain[0], chain[3]]
    assert cli("concentration", "top").exit_code == 0
    png, svg = tmp_path / "curve.png", tmp_path / "curve.svg"
    assert cli("concentration", "plot", "--out", str(png)).exit_code == 0
    assert cli("concentration", "plot", "--out", str(svg), "--store", "BJ001").exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text()
    assert cli("concentration", "top", "--store", "XX999").exit_code == 66


def test_api_curve_and_top_by_role(seeded: Runtime, chain: dict[int, str]) -> None:
    with use_clock(FixedClock(SPEND_CHAIN_AS_OF)), TestClient(create_app(seeded)) as client:
        curve = client.get("/v1/concentration", headers=_key(seeded, "analyst"))
        assert curve.status_code == 200, curve.text
        assert len(curve.json()["curve"]) == 100
        admin_top = client.get("/v1/concentration/top", headers=_key(seeded, "admin"))
        assert admin_top.json()["members"][0]["member"] == chain[0]
        for role in ("marketer", "analyst"):
            body = client.get("/v1/concentration/top?share=1", headers=_key(seeded, role)).json()
            assert len(body["members"]) == 5
            assert all(m["member"].startswith("p_") for m in body["members"])
            assert not set(chain.values()) & {m["member"] for m in body["members"]}
        for role in ("pos", "staff"):
            assert client.get("/v1/concentration", headers=_key(seeded, role)).status_code == 403
            assert (
                client.get("/v1/concentration/top", headers=_key(seeded, role)).status_code == 403
            )
        manager = _key(seeded, "manager", store_code="SH001")
        own = client.get("/v1/concentration/top?share=1", headers=manager)
        assert own.status_code == 200 and own.json()["total"] == 2
        assert client.get("/v1/concentration?store=BJ001", headers=manager).status_code == 403
        bad = client.get("/v1/concentration/top?share=2", headers=_key(seeded, "admin"))
        assert bad.status_code == 422 and "share" in bad.text
        page = client.get(
            "/v1/concentration/top?share=1&limit=2&offset=2", headers=_key(seeded, "admin")
        ).json()
        assert [m["rank"] for m in page["members"]] == [3, 4] and page["total"] == 5
    drain_key_writes()
