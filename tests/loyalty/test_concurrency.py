"""Concurrency with real threads against the real database (SQLite serialises writers
with BEGIN IMMEDIATE; PostgreSQL locks member and account rows in id order)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select
from tests.loyalty.conftest import ADMIN, dinner, load, member_of

from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.errors import Conflict
from memberops.identity.merges import merge_members
from memberops.loyalty import service
from memberops.loyalty.models import LoyaltyAccount, LoyaltyEntry, Redemption
from memberops.runtime import Runtime

NOW = datetime(2026, 3, 5, 4, tzinfo=UTC)


def run_together(jobs: list[Callable[[], object]]) -> list[object]:
    """Start every job at once on its own thread; return results or raised exceptions."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            with use_clock(FixedClock(NOW)):
                results[i] = jobs[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_50_concurrent_redemptions_never_overdraw_and_lose_no_entry(seeded: Runtime) -> None:
    with use_clock(FixedClock(NOW)):
        load(seeded, dinner("1", cents=20000))  # 200 points
    with seeded.sessions() as session:
        m = member_of(session, "1")

    def redeem(i: int) -> Callable[[], object]:
        def job() -> object:
            with transaction(seeded.sessions) as session:
                return service.redeem(
                    session,
                    member_id=m,
                    points=10,
                    source_system="pos",
                    redemption_id=f"X{i}",
                    actor=ADMIN,
                ).id

        return job

    results = run_together([redeem(i) for i in range(50)])
    ok = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == 20 and len(refused) == 30, [r for r in results if isinstance(r, Exception)]
    with seeded.sessions() as session:
        assert session.get(LoyaltyAccount, m).balance == 0  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Redemption)) == 20
        assert session.scalar(select(func.count()).where(LoyaltyEntry.type == "redeem")) == 20
    with transaction(seeded.sessions) as session:
        assert service.verify_ledger(session).ok


def test_the_same_redemption_retried_concurrently_is_stored_once(seeded: Runtime) -> None:
    with use_clock(FixedClock(NOW)):
        load(seeded, dinner("1", cents=20000))
    with seeded.sessions() as session:
        m = member_of(session, "1")

    def job() -> object:
        with transaction(seeded.sessions) as session:
            return service.redeem(
                session,
                member_id=m,
                points=50,
                source_system="pos",
                redemption_id="SAME",
                actor=ADMIN,
            ).id

    results = run_together([job for _ in range(10)])
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 1
    with seeded.sessions() as session:
        assert session.get(LoyaltyAccount, m).balance == 150  # type: ignore[union-attr]


def test_concurrent_earns_redemptions_merge_and_period_end_do_not_conflict(
    seeded: Runtime,
) -> None:
    with use_clock(FixedClock(NOW)):
        load(
            seeded,
            dinner("a1", cents=50000, phone="13800000001"),
            dinner("b1", cents=50000, phone="13800000002"),
        )
    with seeded.sessions() as session:
        a, b = member_of(session, "a1"), member_of(session, "b1")

    def earn(i: int, phone: str) -> Callable[[], object]:
        def job() -> object:
            load(seeded, dinner(f"e{phone}{i}", cents=1000, phone=phone))
            return "earned"

        return job

    def redeem(i: int, member_id: str) -> Callable[[], object]:
        def job() -> object:
            with transaction(seeded.sessions) as session:
                service.redeem(
                    session,
                    member_id=member_id,
                    points=30,
                    source_system="pos",
                    redemption_id=f"R{member_id[-4:]}{i}",
                    actor=ADMIN,
                )
            return "redeemed"

        return job

    def merge() -> object:
        with transaction(seeded.sessions) as session:
            merge_members(
                session,
                seeded.keyring,
                survivor_id=a,
                absorbed_id=b,
                evidence=["test"],
                reason="same person",
                actor=ADMIN,
            )
        return "merged"

    def evaluate() -> object:
        with transaction(seeded.sessions) as session:
            service.evaluate_tiers(session, as_of=datetime(2026, 4, 1, tzinfo=UTC))
        return "evaluated"

    jobs: list[Callable[[], object]] = [merge, evaluate]
    for i in range(6):
        jobs += [earn(i, "13800000001"), earn(i, "13800000002")]
        jobs += [redeem(i, a), redeem(i, b)]
    results = run_together(jobs)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert not unexpected, unexpected
    redeemed = sum(30 for r in results if r == "redeemed")
    with seeded.sessions() as session:
        accounts = session.scalars(select(LoyaltyAccount)).all()
        total = sum(acct.balance - acct.owed for acct in accounts)
        earned = session.scalar(
            select(func.sum(LoyaltyEntry.points)).where(LoyaltyEntry.type == "earn")
        )
    assert earned == 500 + 500 + 12 * 10
    assert total == earned - redeemed
    with transaction(seeded.sessions) as session:
        result = service.verify_ledger(session)
    assert result.ok, result.problems
