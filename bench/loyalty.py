"""Loyalty benchmarks: ingestion with and without points and tiers, redemption latency
under concurrent clients, the period-end job and a policy simulation at scale.

    uv run python bench/loyalty.py [--orders 20000] [--members 1000000] [--skip-pg]

Ingestion uses demo-chain orders (bench/run.py); the period-end job and the simulation
use synthetic members (one tier state and a few counted orders each).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from run import PG_URL, demo_orders, drop_database, machine, open_bench_runtime, percentile
from sqlalchemy import select

from memberops import capabilities
from memberops.actor import system_actor
from memberops.catalog.models import Store
from memberops.db import bulk_insert, new_id, transaction
from memberops.errors import Conflict
from memberops.identity.hooks import clear_merge_handlers
from memberops.loyalty import service
from memberops.loyalty.models import LoyaltyAccount, TierState
from memberops.loyalty.rules import DEFAULT_POLICY_TOML, OrderFact, parse_policy
from memberops.members.models import Member
from memberops.orders.hooks import clear_orders_stored_handlers
from memberops.orders.models import Order
from memberops.orders.service import ingest

ACTOR = system_actor("bench")


def ingest_run(kind: str, chain: Any, orders: list[dict[str, Any]], *, loyalty: bool) -> float:
    """Orders per second for one ingestion of `orders` into a fresh database."""
    clear_orders_stored_handlers()
    clear_merge_handlers()
    if loyalty:
        capabilities.install()
    home = Path(tempfile.mkdtemp(prefix="memberops-loyalty-bench-"))
    runtime, handle = open_bench_runtime(kind, home, chain)
    try:
        records = [(f"record {i}", o) for i, o in enumerate(orders)]
        started = time.perf_counter()
        with transaction(runtime.sessions) as session:
            report = ingest(
                session, runtime.keyring, records, actor=ACTOR, source_name="b", fmt="b"
            )
        seconds = time.perf_counter() - started
        assert report.orders_created == len(orders)
        if loyalty:
            with transaction(runtime.sessions) as session:
                assert service.verify_ledger(session).ok
        return len(orders) / seconds
    finally:
        runtime.close()
        drop_database(handle)
        capabilities.install()


def redemption_latency(
    kind: str, chain: Any, orders: list[dict[str, Any]], *, clients: int = 20, each: int = 50
) -> tuple[float, float, float, int]:
    """p50, p95, p99 (ms) and refusals of redemptions by `clients` concurrent threads."""
    capabilities.install()
    home = Path(tempfile.mkdtemp(prefix="memberops-loyalty-bench-"))
    runtime, handle = open_bench_runtime(kind, home, chain)
    # One connection per client: the default pool (5 + 10 overflow) would make clients
    # queue for a connection, and the wait is not what is measured here.
    runtime.engine.pool._max_overflow = clients  # type: ignore[attr-defined]
    try:
        with transaction(runtime.sessions) as session:
            ingest(
                session,
                runtime.keyring,
                [(f"r{i}", o) for i, o in enumerate(orders)],
                actor=ACTOR,
                source_name="b",
                fmt="b",
            )
        with runtime.sessions() as session:
            members = [
                m
                for (m,) in session.query(LoyaltyAccount.member_id)
                .filter(LoyaltyAccount.balance >= each)
                .all()
            ]
        latencies: list[float] = []
        refused = 0
        lock = threading.Lock()
        barrier = threading.Barrier(clients)

        def client(c: int) -> None:
            nonlocal refused
            rng = random.Random(c)
            barrier.wait()
            for i in range(each):
                member_id = rng.choice(members)
                started = time.perf_counter()
                try:
                    with transaction(runtime.sessions) as session:
                        service.redeem(
                            session,
                            member_id=member_id,
                            points=1,
                            source_system="bench",
                            redemption_id=f"{c}-{i}",
                            actor=ACTOR,
                        )
                except Conflict:
                    with lock:
                        refused += 1
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)

        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with transaction(runtime.sessions) as session:
            assert service.verify_ledger(session).ok
        return (
            statistics.median(latencies),
            percentile(latencies, 0.95),
            percentile(latencies, 0.99),
            refused,
        )
    finally:
        runtime.close()
        drop_database(handle)


def period_end_job(kind: str, chain: Any, members: int) -> tuple[float, dict[str, Any]]:
    """Seconds for `tiers evaluate` over `members` synthetic tiered members."""
    capabilities.install()
    home = Path(tempfile.mkdtemp(prefix="memberops-loyalty-bench-"))
    runtime, handle = open_bench_runtime(kind, home, chain)
    rng = random.Random(1)
    joined = datetime(2024, 1, 1, tzinfo=UTC)
    pe = datetime(2026, 3, 31, 16, tzinfo=UTC)  # 1 April 2026, local midnight
    try:
        with transaction(runtime.sessions) as session:
            store_id = session.scalars(select(Store.id)).first()
            for start in range(0, members, 50_000):
                ids = [new_id() for _ in range(start, min(members, start + 50_000))]
                bulk_insert(
                    session,
                    Member,
                    [
                        {
                            "id": m,
                            "status": "active",
                            "created_at": joined,
                            "updated_at": joined,
                            "points_balance": 0,
                        }
                        for m in ids
                    ],
                )
                bulk_insert(
                    session,
                    TierState,
                    [
                        {
                            "member_id": m,
                            "tier_code": rng.choice(("silver", "gold", "black")),
                            "since": joined,
                            "grace_used": 0,
                            "policy_version": 1,
                        }
                        for m in ids
                    ],
                )
                rows = []
                for m in ids:
                    for k in range(rng.randint(0, 4)):
                        at = pe - timedelta(days=rng.randint(1, 500))
                        cents = rng.randint(5_000, 400_000)
                        rows.append(
                            {
                                "id": new_id(),
                                "source": "b",
                                "source_order_id": f"{m}-{k}",
                                "content_hash": "x",
                                "channel": "pos",
                                "store_id": store_id,
                                "member_id": m,
                                "ordered_at": at,
                                "utc_offset_minutes": 480,
                                "meal_type": "dinner",
                                "party_size": 2,
                                "subtotal_cents": cents,
                                "discount_cents": 0,
                                "total_cents": cents,
                                "currency": "CNY",
                                "vouchers": [],
                                "ingested_at": at,
                                "import_batch_id": None,
                            }
                        )
                bulk_insert(session, Order, rows)
        started = time.perf_counter()
        with transaction(runtime.sessions) as session:
            report = service.evaluate_tiers(session, as_of=pe + timedelta(hours=1))
        seconds = time.perf_counter() - started
        with transaction(runtime.sessions) as session:
            again = service.evaluate_tiers(session, as_of=pe + timedelta(hours=2))
        assert again.evaluated == 0
        return seconds, report.to_dict()
    finally:
        runtime.close()
        drop_database(handle)


def simulation(members: int) -> float:
    """Seconds to replay `members` synthetic histories under two policies (pure part)."""
    rng = random.Random(2)
    as_of = datetime(2026, 4, 1, tzinfo=UTC)
    facts: dict[str, list[OrderFact]] = {}
    joined = {}
    for i in range(members):
        orders = sorted(
            (
                OrderFact(as_of - timedelta(days=rng.randint(1, 700)), rng.randint(5_000, 400_000))
                for _ in range(rng.randint(1, 6))
            ),
            key=lambda o: o.at,
        )
        facts[f"m{i}"] = orders
        joined[f"m{i}"] = orders[0].at.date()
    active = parse_policy(DEFAULT_POLICY_TOML)
    proposed = parse_policy(
        DEFAULT_POLICY_TOML.replace("min_spend_cents = 1200000", "min_spend_cents = 1000000")
    )
    started = time.perf_counter()
    result = service.simulate_facts(active, proposed, facts, joined, as_of)
    seconds = time.perf_counter() - started
    assert result["members"] == members
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--only", default="ingest,redeem,period,simulate")
    args = parser.parse_args()
    only = set(args.only.split(","))
    kinds = ["sqlite"] + ([] if args.skip_pg or not PG_URL else ["postgresql"])
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    chain, orders = demo_orders(args.orders)
    if "ingest" in only:
        for kind in kinds:
            without = ingest_run(kind, chain, orders, loyalty=False)
            with_ = ingest_run(kind, chain, orders, loyalty=True)
            print(
                f"ingest {kind}: {len(orders)} orders, without loyalty {without:,.0f}/s, "
                f"with loyalty {with_:,.0f}/s ({(without - with_) / without:+.1%} slower)",
                flush=True,
            )
    if "redeem" in only:
        for kind in kinds:
            p50, p95, p99, refused = redemption_latency(kind, chain, orders[:5000])
            print(
                f"redeem {kind}: 20 clients x 50, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
                f"p99 {p99:.1f} ms, refused {refused}",
                flush=True,
            )
    if "period" in only:
        for kind in kinds:
            seconds, report = period_end_job(kind, chain, args.members)
            print(
                f"period-end {kind}: {args.members:,} members in {seconds:.1f} s {report}",
                flush=True,
            )
    if "simulate" in only:
        seconds = simulation(args.members)
        print(f"simulate: {args.members:,} members in {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
