"""Dish combinations on live data (chain-wide and per store) and from a file."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from clv.chain import chain_orders, load_chain
from memberops.actor import Actor
from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.baskets import frequent_itemsets
from memberops.baskets.service import dish_combinations
from memberops.db import transaction
from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient


def test_live_rules_chain_wide_and_per_store(seeded: Runtime, admin: Actor) -> None:
    load_chain(seeded, admin)
    orders = chain_orders()
    with transaction(seeded.sessions) as session:
        chain = dish_combinations(session, min_support=0.05, min_confidence=0.5)
        beijing = dish_combinations(session, store_code="BJ001", min_support=0.05)
    assert chain.baskets == len(orders)
    assert beijing.baskets == sum(o["store_code"] == "BJ001" for o in orders)
    beef_rules = [r for r in chain.rules if r["antecedents"] == ["MT001 Beef slices"]]
    assert beef_rules[0]["consequents"] == ["BR001 Spicy broth"]
    assert beef_rules[0]["confidence"] == 1.0


def test_cli_input_file_lists_every_itemset_with_its_support(
    cli: Callable[..., object], tmp_path: Path
) -> None:
    rows = [(o["source_order_id"], line["sku"]) for o in chain_orders() for line in o["lines"]]
    lines = pd.DataFrame(rows, columns=["basket_id", "item"])
    path = tmp_path / "lines.parquet"
    lines.to_parquet(path)
    result = cli("baskets", "rules", "--input", str(path), "--min-support", "0.02", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    expected = frequent_itemsets(lines, 0.02)
    got = {frozenset(i["items"]): i["support"] for i in data["itemsets"]}
    assert got == dict(zip(expected["itemsets"], expected["support"], strict=True))
    picture = tmp_path / "rules.png"
    drawn = cli(
        "baskets", "rules", "--input", str(path), "--min-support", "0.02", "--png", str(picture)
    )
    assert drawn.exit_code == 0  # type: ignore[attr-defined]
    assert picture.read_bytes()[:4] == b"\x89PNG"


def test_cli_input_needs_min_support_and_names_missing_columns(
    cli: Callable[..., object], tmp_path: Path
) -> None:
    path = tmp_path / "lines.csv"
    path.write_text("order,item\n1,a\n")
    missing = cli("baskets", "rules", "--input", str(path), "--min-support", "0.1", "--json")
    assert json.loads(missing.stdout)["details"][0]["field"] == "basket_id"  # type: ignore[attr-defined]
    no_support = cli("baskets", "rules", "--input", str(path), "--json")
    assert json.loads(no_support.stdout)["details"][0]["field"] == "--min-support"  # type: ignore[attr-defined]


def test_api_rules_for_analysts_and_unknown_store_is_404(seeded: Runtime, admin: Actor) -> None:
    load_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        _, secret = create_api_key(session, name="a", role="analyst")
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(seeded)) as client:
        ok = client.get(
            "/v1/analytics/baskets/rules?min_support=0.05&include_itemsets=true", headers=headers
        )
        missing = client.get("/v1/analytics/baskets/rules?store=NOPE", headers=headers)
    assert ok.status_code == 200
    assert ok.json()["rules"] and ok.json()["itemsets"]
    assert missing.status_code == 404
