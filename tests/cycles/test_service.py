"""The due list on live data, from the CLI and the API."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable

from clv.chain import AS_OF, MEMBERS, load_chain
from memberops.actor import Actor
from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.clock import FixedClock, use_clock
from memberops.cycles.service import member_cycles
from memberops.db import transaction
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient


def test_live_cycles_cover_every_member_and_category(seeded: Runtime, admin: Actor) -> None:
    load_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        cycles, histogram = member_cycles(session, now=AS_OF)
        by_category, _ = member_cycles(session, now=AS_OF, by_category=True)
    assert len(cycles) == MEMBERS
    # Member 0 never stopped: not due. Everyone else stopped weeks ago.
    statuses = dict(zip(cycles["member_id"], cycles["status"], strict=True))
    assert sorted(statuses.values()).count("not_due") == 1
    assert set(by_category["category"]) == {"broths", "meats", "vegetables", "drinks"}
    assert sum(b["gaps"] for b in histogram) > 0


def test_due_from_cli_and_api_with_pseudonyms_for_marketers(
    seeded: Runtime, admin: Actor, cli: Callable[..., object]
) -> None:
    load_chain(seeded, admin)
    as_of = (AS_OF.replace(tzinfo=None)).isoformat()
    # Loosen the lapsed bound so members who stopped recently are due.
    result = cli("cycles", "due", "--as-of", as_of, "--lapsed-factor", "100", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    due = json.loads(result.stdout)["due"]  # type: ignore[attr-defined]
    assert due and all(row["status"] == "due" for row in due)
    with transaction(seeded.sessions) as session:
        _, secret = create_api_key(session, name="m", role="marketer")
    with use_clock(FixedClock(AS_OF)), TestClient(create_app(seeded)) as client:
        response = client.get(
            "/v1/analytics/cycles/due?lapsed_factor=100",
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert response.status_code == 200
    body = response.json()
    assert len(body["due"]) == len(due)
    assert all(row["member"].startswith("p_") for row in body["due"])
