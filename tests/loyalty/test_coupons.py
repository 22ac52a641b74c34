"""Coupons over a real database: definitions, personalised issuance up to the per-member
limit, pricing in the quote with the reason each applied or not, local-time validity,
redemption exactly once (also under concurrency, on PostgreSQL with real threads)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.loyalty.conftest import ADMIN, dinner, load, member_of
from tests.loyalty.test_concurrency import run_together

from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.errors import Conflict, NotFound, ValidationError
from memberops.identity.merges import merge_members, unmerge
from memberops.loyalty import coupons, service
from memberops.runtime import Runtime

NOW = datetime(2026, 3, 5, 4, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with use_clock(FixedClock(NOW)):
        yield


def define(runtime: Runtime, **doc: Any) -> None:
    base: dict[str, Any] = {
        "code": "MEAT10",
        "name": "10% off meat",
        "kind": "percent",
        "value": 1000,
        "valid_from": "2026-03-01",
        "valid_to": "2026-03-31",
        "min_spend_cents": 4000,
        "categories": ["meats"],
    }
    base.update(doc)
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        coupons.define_coupon(session, base, zone=policy.zone, actor=ADMIN)


def issue(runtime: Runtime, code: str = "MEAT10", **kw: Any) -> dict[str, Any]:
    with transaction(runtime.sessions) as session:
        _, policy = service.active_policy(session)
        return dict(coupons.issue_coupons(session, code, policy=policy, actor=ADMIN, **kw))


@pytest.fixture
def two(seeded: Runtime) -> tuple[str, str]:
    load(seeded, dinner("1", cents=10000), dinner("2", cents=1000, phone="13800000002"))
    with seeded.sessions() as session:
        return member_of(session, "1"), member_of(session, "2")


def quote(runtime: Runtime, member_id: str | None, codes: list[str], **kw: Any) -> dict[str, Any]:
    items = kw.pop("items", [("MT001", 1), ("VG001", 1)])
    with transaction(runtime.sessions) as session:
        return service.quote(session, member_id=member_id, items=items, coupon_codes=codes)


def coupon_line(result: dict[str, Any]) -> dict[str, Any]:
    (line,) = [ln for ln in result["lines"] if ln["kind"] == "coupon"]
    return line


def test_a_coupon_applies_to_eligible_items_and_says_so(
    seeded: Runtime, two: tuple[str, str]
) -> None:
    m, _ = two
    define(seeded)
    (code,) = issue(seeded, member_ids=[m])["codes"]
    result = quote(seeded, m, [code])
    assert result["public_cents"] == 6000
    assert coupon_line(result) == {
        "kind": "coupon",
        "label": code,
        "amount_cents": -480,  # 10% of the 48.00 of meat only
        "applied": True,
        "reason": "applied",
    }
    assert result["total_cents"] == 5520


def test_a_newcomer_or_another_member_cannot_use_it(seeded: Runtime, two: tuple[str, str]) -> None:
    m, other = two
    define(seeded)
    (code,) = issue(seeded, member_ids=[m])["codes"]
    for who in (None, other):
        line = coupon_line(quote(seeded, who, [code]))
        assert (line["applied"], line["reason"]) == (False, "not a coupon of this member")
    line = coupon_line(quote(seeded, m, ["NOPE-1"]))
    assert line["reason"] == "not a coupon of this member"


def test_minimum_spend_not_met_is_explained(seeded: Runtime, two: tuple[str, str]) -> None:
    m, _ = two
    define(seeded, min_spend_cents=9600)
    (code,) = issue(seeded, member_ids=[m])["codes"]
    line = coupon_line(quote(seeded, m, [code]))
    assert line["reason"] == "eligible spend 48.00 below the minimum 96.00"
    assert coupon_line(quote(seeded, m, [code], items=[("MT001", 2)]))["applied"]


@pytest.mark.parametrize(
    ("now", "usable"),
    [
        (datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC), True),  # 23:59:59 local, 31 March
        (datetime(2026, 3, 31, 16, 0, 0, tzinfo=UTC), False),  # 00:00:00 local, 1 April
        (datetime(2026, 2, 28, 16, 0, 0, tzinfo=UTC), True),  # 00:00:00 local, 1 March
        (datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC), False),
    ],
)
def test_validity_is_local_time(
    seeded: Runtime, two: tuple[str, str], now: datetime, usable: bool
) -> None:
    m, _ = two
    define(seeded)
    (code,) = issue(seeded, member_ids=[m])["codes"]
    with use_clock(FixedClock(now)):
        line = coupon_line(quote(seeded, m, [code]))
    assert line["applied"] is usable
    if not usable:
        assert line["reason"].startswith("not valid at 20")


def test_redeemed_once_replay_returns_it_another_document_is_refused(
    seeded: Runtime, two: tuple[str, str]
) -> None:
    m, other = two
    define(seeded)
    (code,) = issue(seeded, member_ids=[m])["codes"]

    def redeem(ref: str, member_id: str = m) -> dict[str, Any]:
        with transaction(seeded.sessions) as session:
            return coupons.redeem_coupon(
                session,
                code=code,
                member_id=member_id,
                source_system="pos",
                reference=ref,
                actor=ADMIN,
            )

    first = redeem("T1")
    assert first["status"] == "redeemed" and first["replayed"] is False
    assert redeem("T1")["replayed"] is True
    with pytest.raises(Conflict, match="already redeemed"):
        redeem("T2")
    with pytest.raises(NotFound):
        redeem("T3", other)
    line = coupon_line(quote(seeded, m, [code]))
    assert line["reason"] == "coupon already redeemed"
    with transaction(seeded.sessions) as session:
        (mine,) = coupons.member_coupons(session, m, at=NOW)
    assert mine["status"] == "redeemed"


def test_per_member_limit_caps_issuance(seeded: Runtime, two: tuple[str, str]) -> None:
    m, other = two
    define(seeded, per_member_limit=2)
    assert issue(seeded, member_ids=[m])["issued"] == 1
    assert issue(seeded, member_ids=[m, other])["issued"] == 2
    report = issue(seeded, member_ids=[m, other])
    assert (report["issued"], report["at_limit"]) == (1, 1)
    with transaction(seeded.sessions) as session:
        assert len(coupons.member_coupons(session, m, at=NOW)) == 2


def test_issue_to_a_tier(seeded: Runtime, two: tuple[str, str]) -> None:
    define(seeded)
    assert issue(seeded, tiers=["red"])["issued"] == 2
    with pytest.raises(ValidationError):
        issue(seeded, tiers=["platinum"])
    with pytest.raises(ValidationError):
        issue(seeded)


def test_an_order_naming_the_coupon_consumes_it_once(seeded: Runtime, two: tuple[str, str]) -> None:
    m, _ = two
    define(seeded)
    (code,) = issue(seeded, member_ids=[m])["codes"]
    record = dinner("3", cents=5000)
    record["vouchers"] = [code]
    load(seeded, record)
    load(seeded, record)  # replayed: nothing more happens
    with transaction(seeded.sessions) as session:
        (mine,) = coupons.member_coupons(session, m, at=NOW)
    assert mine["status"] == "redeemed"


def test_two_coupons_of_one_definition_within_the_limit(
    seeded: Runtime, two: tuple[str, str]
) -> None:
    m, _ = two
    define(seeded, per_member_limit=1, kind="fixed", value=500, min_spend_cents=0)
    (code,) = issue(seeded, member_ids=[m])["codes"]
    result = quote(seeded, m, [code, code])
    lines = [ln for ln in result["lines"] if ln["kind"] == "coupon"]
    assert [ln["applied"] for ln in lines] == [True, False]
    assert lines[1]["reason"] == "listed twice"


def test_concurrent_redemptions_of_one_coupon_one_wins(
    seeded: Runtime, two: tuple[str, str]
) -> None:
    m, _ = two
    define(seeded)
    (code,) = issue(seeded, member_ids=[m])["codes"]

    def job(i: int) -> Any:
        def run() -> Any:
            with transaction(seeded.sessions) as session:
                return coupons.redeem_coupon(
                    session,
                    code=code,
                    member_id=m,
                    source_system="pos",
                    reference=f"T{i}",
                    actor=ADMIN,
                )

        return run

    results = run_together([job(i) for i in range(8)])
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 7, results
    assert all("already redeemed" in str(r) for r in losses)


def test_coupons_follow_a_merge_and_go_back_on_unmerge(
    seeded: Runtime, two: tuple[str, str]
) -> None:
    m, other = two
    define(seeded)
    (mine,) = issue(seeded, member_ids=[m])["codes"]
    (theirs,) = issue(seeded, member_ids=[other])["codes"]
    with transaction(seeded.sessions) as session:
        record = merge_members(
            session,
            seeded.keyring,
            survivor_id=m,
            absorbed_id=other,
            evidence=["test"],
            reason="same person",
            actor=ADMIN,
        )
    line = coupon_line(quote(seeded, m, [theirs]))
    assert line["applied"], line
    with transaction(seeded.sessions) as session:
        assert len(coupons.member_coupons(session, m, at=NOW)) == 2
        unmerge(session, seeded.keyring, merge_id=record.id, actor=ADMIN)
    with transaction(seeded.sessions) as session:
        assert [c["code"] for c in coupons.member_coupons(session, m, at=NOW)] == [mine]
        assert [c["code"] for c in coupons.member_coupons(session, other, at=NOW)] == [theirs]


def test_concurrent_issuers_never_pass_the_per_member_limit(
    seeded: Runtime, two: tuple[str, str]
) -> None:
    m, other = two
    define(seeded, per_member_limit=2)

    def job() -> Any:
        return issue(seeded, member_ids=[m, other])

    results = run_together([job for _ in range(6)])
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["issued"] for r in results) == 4  # type: ignore[index]
    with transaction(seeded.sessions) as session:
        assert len(coupons.member_coupons(session, m, at=NOW)) == 2
        assert len(coupons.member_coupons(session, other, at=NOW)) == 2
