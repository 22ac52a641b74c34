"""Campaign bonuses and coupons: what they cost ingestion, and the quote's latency.

    uv run python bench/campaigns.py [--orders 10000] [--skip-pg]

Ingests the same demo-chain orders into fresh databases with the loyalty engine on,
first with no campaign, then with one campaign covering every order (each order gets a
stored decision, those above the minimum spend a bonus entry and lot), and times
`service.quote` with one coupon.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from run import PG_URL, demo_orders, drop_database, machine, open_bench_runtime, percentile
from sqlalchemy import func, select

from memberops import capabilities
from memberops.actor import system_actor
from memberops.db import transaction
from memberops.loyalty import campaigns, coupons, service
from memberops.loyalty.campaign_models import CampaignDecision
from memberops.orders.models import Order
from memberops.orders.service import ingest

ACTOR = system_actor("bench")
CAMPAIGN = {
    "code": "BENCH",
    "name": "Double points",
    "valid_from": "2000-01-01",
    "valid_to": "2099-12-31",
    "min_spend_cents": 20000,
    "multiplier_pct": 200,
}
COUPON = {
    "code": "BENCH",
    "name": "20 off",
    "kind": "fixed",
    "value": 2000,
    "valid_from": "2000-01-01",
    "valid_to": "2099-12-31",
}


def run(kind: str, chain: Any, orders: list[dict[str, Any]], *, campaign: bool) -> dict[str, Any]:
    """Orders per second with or without a campaign, plus quote latency with a coupon."""
    capabilities.install()
    home = Path(tempfile.mkdtemp(prefix="memberops-campaign-bench-"))
    runtime, handle = open_bench_runtime(kind, home, chain)
    try:
        if campaign:
            with transaction(runtime.sessions) as session:
                _, policy = service.active_policy(session)
                campaigns.create_campaign(session, CAMPAIGN, policy=policy, actor=ACTOR)
        records = [(f"record {i}", o) for i, o in enumerate(orders)]
        started = time.perf_counter()
        for start in range(0, len(records), 2000):
            with transaction(runtime.sessions) as session:
                ingest(
                    session,
                    runtime.keyring,
                    records[start : start + 2000],
                    actor=ACTOR,
                    source_name="b",
                    fmt="b",
                )
        seconds = time.perf_counter() - started
        out: dict[str, Any] = {"orders_per_s": round(len(orders) / seconds)}
        with transaction(runtime.sessions) as session:
            assert service.verify_ledger(session).ok
            out["decisions"] = session.scalar(select(func.count()).select_from(CampaignDecision))
            member = session.scalar(select(Order.member_id).where(Order.member_id.is_not(None)))
            _, policy = service.active_policy(session)
            coupons.define_coupon(session, COUPON, zone=policy.zone, actor=ACTOR)
            (code,) = coupons.issue_coupons(
                session, "BENCH", member_ids=[member], policy=policy, actor=ACTOR
            )["codes"]
        sku = chain.items[0].sku
        times = []
        for _ in range(300):
            t = time.perf_counter()
            with transaction(runtime.sessions) as session:
                service.quote(session, member_id=member, items=[(sku, 3)], coupon_codes=[code])
            times.append((time.perf_counter() - t) * 1000)
        out["quote_ms_p50"] = round(statistics.median(times), 2)
        out["quote_ms_p95"] = round(percentile(times, 95), 2)
        return out
    finally:
        runtime.close()
        drop_database(handle)


def main() -> None:
    """Print the figures for SQLite and (unless skipped) PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    chain, orders = demo_orders(args.orders)
    print(machine())
    kinds = ["sqlite"] + ([] if args.skip_pg or not PG_URL else ["postgresql"])
    for kind in kinds:
        without = run(kind, chain, orders, campaign=False)
        with_one = run(kind, chain, orders, campaign=True)
        print(f"{kind}: {args.orders} orders, no campaign {without}, one campaign {with_one}")


if __name__ == "__main__":
    main()
