"""CLV on live data: every member with a counted visit is scored, from the CLI and API."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clv.chain import AS_OF, MEMBERS, chain_orders, load_chain
from memberops.actor import Actor
from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.clock import FixedClock, use_clock
from memberops.clv.service import ClvConfig, score_members
from memberops.db import transaction
from memberops.errors import ValidationError
from memberops.orders.service import ingest
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

DATA = Path(__file__).parent / "data"


@pytest.fixture
def chain(seeded: Runtime, admin: Actor) -> Runtime:
    load_chain(seeded, admin)
    return seeded


def test_every_member_with_a_counted_visit_is_scored(chain: Runtime) -> None:
    with transaction(chain.sessions) as session:
        result = score_members(session, now=AS_OF, config=ClvConfig(horizon_days=30))
    scores = result.scores
    assert len(scores) == MEMBERS
    assert scores["member_id"].is_unique
    assert (scores["clv_cents"] >= 0).all()
    assert scores["clv_cents"].is_monotonic_decreasing
    # The member who never stopped coming is the most likely to be alive.
    loyal = scores.loc[scores["frequency"].idxmax()]
    assert loyal["p_alive"] == scores["p_alive"].max()
    assert result.aggregates["members_scored"] == MEMBERS
    assert result.gamma_gamma is not None


def test_no_orders_is_a_validation_error_naming_orders(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session, pytest.raises(ValidationError) as caught:
        score_members(session, now=AS_OF)
    assert caught.value.field == "orders"


def test_cli_fit_summary_prints_the_cdnow_parameters(cli: Callable[..., object]) -> None:
    result = cli("clv", "fit", "--summary", str(DATA / "cdnow_summary.csv"), "--json")
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert round(data["beta_geo"]["params"]["r"], 3) == 0.243
    assert round(data["beta_geo"]["log_likelihood"], 1) == -9582.4
    assert round(data["gamma_gamma"]["params"]["p"], 2) == 6.25


def test_cli_fit_summary_names_a_missing_column(cli: Callable[..., object], tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("frequency,recency\n1,2\n")
    result = cli("clv", "fit", "--summary", str(path), "--json")
    assert result.exit_code == 65  # type: ignore[attr-defined]
    assert json.loads(result.stdout)["details"][0]["field"] == "T"  # type: ignore[attr-defined]


def test_cli_fit_live_scores_members_and_draws(
    chain: Runtime, cli: Callable[..., object], tmp_path: Path
) -> None:
    scores_csv, picture, models = tmp_path / "s.csv", tmp_path / "clv.svg", tmp_path / "m"
    result = cli(
        "clv",
        "fit",
        "--as-of",
        "2026-06-01",
        "--json",
        "--output",
        str(scores_csv),
        "--svg",
        str(picture),
        "--save-models",
        str(models),
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert data["aggregates"]["members_scored"] == MEMBERS
    assert len(scores_csv.read_text().splitlines()) == MEMBERS + 1
    assert picture.read_text().lstrip().startswith("<?xml")
    assert json.loads((models / "beta_geo.json").read_text())["model"] == "BetaGeo"


@pytest.fixture
def client(chain: Runtime) -> Iterator[TestClient]:
    with use_clock(FixedClock(AS_OF)), TestClient(create_app(chain)) as test_client:
        yield test_client


def bearer(runtime: Runtime, role: str) -> dict[str, str]:
    with transaction(runtime.sessions) as session:
        _, secret = create_api_key(session, name=f"{role} key", role=role)
    return {"Authorization": f"Bearer {secret}"}


def test_analysts_get_pseudonymous_ids_and_admins_real_ones(
    chain: Runtime, client: TestClient
) -> None:
    analyst = client.get("/v1/analytics/clv?limit=5", headers=bearer(chain, "analyst"))
    admin = client.get("/v1/analytics/clv?limit=5", headers=bearer(chain, "admin"))
    assert analyst.status_code == admin.status_code == 200
    shown, real = analyst.json()["members"], admin.json()["members"]
    assert [m["clv_cents"] for m in shown] == [m["clv_cents"] for m in real]
    assert all(m["member"].startswith("p_") for m in shown)
    assert {m["member"] for m in shown}.isdisjoint({m["member"] for m in real})
    assert analyst.json()["aggregates"]["members_scored"] == MEMBERS


def test_staff_may_not_read_clv(chain: Runtime, client: TestClient) -> None:
    response = client.get("/v1/analytics/clv", headers=bearer(chain, "staff"))
    assert response.status_code == 403


TINY_PHONES = ["13812340001", "13812340002", "13812340003"]


def test_a_chain_too_small_to_fit_answers_422_not_500(seeded: Runtime, admin: Actor) -> None:
    """Three members, one of whom came back once: the spend model has nothing finite to
    say, and the answer names the reason instead of failing."""
    orders = [o for o in chain_orders() if o["customer"]["phone"] in TINY_PHONES]
    first_two = {}
    kept = []
    for order in orders:
        seen = first_two.setdefault(order["customer"]["phone"], 0)
        limit = 2 if order["customer"]["phone"] == TINY_PHONES[0] else 1
        if seen < limit:
            kept.append(order)
            first_two[order["customer"]["phone"]] = seen + 1
    with transaction(seeded.sessions) as session:
        ingest(
            session,
            seeded.keyring,
            [(f"order {i}", o) for i, o in enumerate(kept)],
            actor=admin,
            source_name="tiny",
            fmt="test",
        )
    with use_clock(FixedClock(AS_OF)), TestClient(create_app(seeded)) as tiny:
        response = tiny.get("/v1/analytics/clv", headers=bearer(seeded, "admin"))
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["details"][0]["field"] == "orders"
        assert "repeat" in response.json()["message"]
    else:
        assert all(isinstance(m["clv_cents"], int) for m in response.json()["members"])
