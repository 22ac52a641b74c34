"""A model-based test of the points ledger (reliability invariants L1-L7, L11).

Hypothesis drives random sequences of orders, replays, refunds, voids, redemptions,
cancellations, expiry runs, merges and unmerges through the real ingestion and the real
database. After every step `ledger verify` must hold, and the model predicts each
person's net points exactly until an expiry run (which the model then takes as reported,
and keeps checking the sum).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)
from tests.loyalty.conftest import ADMIN, dinner, load, member_of, refund

from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.errors import Conflict
from memberops.identity.merges import merge_members, unmerge
from memberops.identity.models import MergeRecord
from memberops.loyalty import service
from memberops.loyalty.models import LoyaltyAccount
from memberops.loyalty.rules import DEFAULT_POLICY_TOML, reversal_points
from memberops.members.service import get_member_or_raise
from memberops.runtime import Runtime

# Every tier earns 1%, so the model needs no tier arithmetic.
FLAT_POLICY = DEFAULT_POLICY_TOML
for pct in ("110", "125", "150"):
    FLAT_POLICY = FLAT_POLICY.replace(
        f"points_multiplier_pct = {pct}", "points_multiplier_pct = 100"
    )

_runs = itertools.count()


@dataclass
class OrderModel:
    person: int
    cents: int
    at: str
    refunded: int = 0
    reversed: int = 0
    voided: bool = False

    @property
    def earned(self) -> int:
        return self.cents // 100


def make_machine(runtime: Runtime) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        orders = Bundle("orders")
        redemptions = Bundle("redemptions")

        def __init__(self) -> None:
            super().__init__()
            self.run = next(_runs)
            self.clock = FixedClock(datetime(2026, 3, 1, 4, tzinfo=UTC))
            self.phones = [f"139{self.run:04d}{p:04d}" for p in range(3)]
            self.member: dict[int, str] = {}
            self.net: dict[int, int] = dict.fromkeys(range(3), 0)
            self.order_models: dict[str, OrderModel] = {}
            self.merges: list[tuple[str, int, int]] = []
            self.exact = True
            self.seq = itertools.count()

        # ------------------------------------------------------------ helpers
        def holder(self, person: int) -> int:
            """The person whose account holds `person`'s points now (merges followed)."""
            for _merge, survivor, absorbed in reversed(self.merges):
                if absorbed == person:
                    return self.holder(survivor)
            return person

        def account_net(self, member_id: str) -> int:
            with runtime.sessions() as session:
                acct = session.get(LoyaltyAccount, member_id)
                return acct.balance - acct.owed if acct else 0

        # ------------------------------------------------------------ rules
        @rule(target=orders, person=st.integers(0, 2), cents=st.integers(1, 50000))
        def place_order(self, person: int, cents: int) -> str:
            order_id = f"o{self.run}-{next(self.seq)}"
            with use_clock(self.clock):
                load(
                    runtime,
                    dinner(
                        order_id,
                        cents=cents,
                        phone=self.phones[person],
                        at=self.clock.now().isoformat(),
                    ),
                )
            with runtime.sessions() as session:
                self.member.setdefault(person, member_of(session, order_id))
            self.order_models[order_id] = OrderModel(person, cents, at=self.clock.now().isoformat())
            self.net[self.holder(person)] += cents // 100
            return order_id

        @rule(order_id=orders)
        def replay_order(self, order_id: str) -> None:
            model = self.order_models[order_id]
            with use_clock(self.clock):
                load(
                    runtime,
                    dinner(
                        order_id, cents=model.cents, phone=self.phones[model.person], at=model.at
                    ),
                )

        @rule(order_id=orders, share=st.integers(1, 100))
        def refund_order(self, order_id: str, share: int) -> None:
            model = self.order_models[order_id]
            left = model.cents - model.refunded
            if model.voided or left <= 0:
                return
            amount = max(1, left * share // 100)
            with use_clock(self.clock):
                load(runtime, refund(f"r{order_id}-{model.refunded}", order_id, amount))
            points = reversal_points(model.earned, model.cents, model.refunded, amount)
            model.refunded += amount
            model.reversed += points
            self.net[self.holder(model.person)] -= points

        @rule(order_id=orders)
        def void_order(self, order_id: str) -> None:
            model = self.order_models[order_id]
            if model.voided or model.refunded >= model.cents:
                return
            with use_clock(self.clock):
                load(runtime, refund(f"v{order_id}", order_id, None, kind="void"))
            self.net[self.holder(model.person)] -= model.earned - model.reversed
            model.reversed = model.earned
            model.voided = True

        @rule(target=redemptions, person=st.integers(0, 2), points=st.integers(1, 400))
        def redeem(self, person: int, points: int) -> tuple[str, int, int] | None:
            if person not in self.member:
                return None
            rid = f"x{self.run}-{next(self.seq)}"
            owner = self.holder(person)
            spendable = self.net[owner]
            try:
                with use_clock(self.clock), transaction(runtime.sessions) as session:
                    service.redeem(
                        session,
                        member_id=self.member[person],
                        points=points,
                        source_system="pos",
                        redemption_id=rid,
                        actor=ADMIN,
                    )
            except Conflict:
                assert not self.exact or points > spendable
                return None
            assert not self.exact or points <= spendable
            self.net[owner] -= points
            # A retry of the same document changes nothing.
            with use_clock(self.clock), transaction(runtime.sessions) as session:
                again = service.redeem(
                    session,
                    member_id=self.member[person],
                    points=points,
                    source_system="pos",
                    redemption_id=rid,
                    actor=ADMIN,
                )
                assert again.replayed
            return (rid, person, points)

        @rule(redemption=consumes(redemptions))
        def cancel(self, redemption: tuple[str, int, int] | None) -> None:
            if redemption is None:
                return
            rid, person, points = redemption
            with use_clock(self.clock), transaction(runtime.sessions) as session:
                service.cancel_redemption(
                    session, source_system="pos", redemption_id=rid, actor=ADMIN
                )
            # Points whose lot expired meanwhile come back expired: exact only before expiry.
            self.net[self.holder(person)] += points
            if not self.exact:
                self._resync()

        @rule(days=st.integers(100, 500))
        def expire(self, days: int) -> None:
            self.clock.advance(timedelta(days=days))
            with use_clock(self.clock), transaction(runtime.sessions) as session:
                expired = service.expire_points(session)
            if expired:
                self.exact = False
            self._resync()

        @precondition(lambda self: len(self.member) >= 2)
        @rule(data=st.data())
        def merge(self, data: st.DataObject) -> None:
            active = sorted({self.holder(p) for p in self.member})
            if len(active) < 2:
                return
            survivor, absorbed = data.draw(st.permutations(active))[:2]
            before = self.account_net(self.member[survivor]) + self.account_net(
                self.member[absorbed]
            )
            with use_clock(self.clock), transaction(runtime.sessions) as session:
                record = merge_members(
                    session,
                    runtime.keyring,
                    survivor_id=self.member[survivor],
                    absorbed_id=self.member[absorbed],
                    evidence=["model"],
                    reason="model",
                    actor=ADMIN,
                )
            self.merges.append((record.id, survivor, absorbed))
            self.net[survivor] += self.net[absorbed]
            self.net[absorbed] = 0
            after = self.account_net(self.member[survivor])
            assert after == before  # L11: balance(merged) = balance(A) + balance(B)

        @precondition(lambda self: bool(self.merges))
        @rule()
        def unmerge_last(self) -> None:
            merge_id, survivor, absorbed = self.merges.pop()
            s, a = self.member[survivor], self.member[absorbed]
            before = self.account_net(s) + self.account_net(a)
            with use_clock(self.clock), transaction(runtime.sessions) as session:
                record = session.get(MergeRecord, merge_id)
                assert record is not None
                if get_member_or_raise(session, s).id != s:
                    self.merges.append((merge_id, survivor, absorbed))
                    return
                unmerge(session, runtime.keyring, merge_id=merge_id, actor=ADMIN)
            assert self.account_net(s) + self.account_net(a) == before  # conserved
            self._resync()

        def _resync(self) -> None:
            for person, member_id in self.member.items():
                if self.holder(person) == person:
                    self.net[person] = self.account_net(member_id)

        # ------------------------------------------------------------ invariants
        @invariant()
        def ledger_verifies(self) -> None:
            with use_clock(self.clock), transaction(runtime.sessions) as session:
                result = service.verify_ledger(session)
            assert result.ok, result.problems

        @invariant()
        def model_matches(self) -> None:
            for person, member_id in self.member.items():
                if self.holder(person) == person:
                    assert self.account_net(member_id) == self.net[person], person
                else:
                    with runtime.sessions() as session:
                        acct = session.get(LoyaltyAccount, member_id)
                        assert acct is None or (acct.balance, acct.owed) == (0, 0)

    return LedgerMachine


@pytest.mark.parametrize("examples", [25])
def test_ledger_state_machine(seeded: Runtime, examples: int) -> None:
    with transaction(seeded.sessions) as session:
        service.activate_policy(session, FLAT_POLICY, actor=ADMIN)
    machine = make_machine(seeded)
    machine.TestCase.settings = settings(
        max_examples=examples,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        # Each step hits a real database; shrinking would take minutes, and the printed
        # step list of a failure is already short enough to read.
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
    )
    machine.TestCase().runTest()
