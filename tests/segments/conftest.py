"""A small chain of members whose segment memberships are known by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from builders import DEFAULT_STORES, add_segment_member
from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.members.models import MemberStatus
from memberops.runtime import Runtime

STORE, OTHER_STORE = (s.code for s in DEFAULT_STORES)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Chain:
    """Member ids by their role in the tests."""

    gold_regular: str  # 5 visits, 10 days ago, gold, home STORE, marketing, no_coriander
    black_lapsed: str  # 3 visits, 100 days ago, black, home OTHER_STORE, marketing
    red_new: str  # 1 visit, 5 days ago, red, home STORE
    never_visited: str  # no metrics, red, marketing
    merged: str  # merged away: never in any segment


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(NOW)
    with use_clock(fixed):
        yield fixed


@pytest.fixture
def chain(seeded: Runtime, clock: FixedClock) -> Chain:
    with transaction(seeded.sessions) as session:
        return build_chain(session)


def build_chain(session: Session) -> Chain:
    """The five members; see `Chain`."""
    return Chain(
        gold_regular=add_segment_member(
            session,
            visits=5,
            spend_cents=600_000,
            last_visit=NOW - timedelta(days=10),
            store_code=STORE,
            tier="gold",
            points=1200,
            label_codes=("no_coriander",),
            consents=("marketing",),
        ),
        black_lapsed=add_segment_member(
            session,
            visits=3,
            spend_cents=1_300_000,
            last_visit=NOW - timedelta(days=100),
            store_code=OTHER_STORE,
            tier="black",
            points=5000,
            consents=("marketing",),
        ),
        red_new=add_segment_member(
            session,
            visits=1,
            spend_cents=9_000,
            last_visit=NOW - timedelta(days=5, hours=3),
            store_code=STORE,
            tier="red",
        ),
        never_visited=add_segment_member(session, tier="red", consents=("marketing",)),
        merged=add_segment_member(
            session,
            visits=10,
            spend_cents=1_000_000,
            last_visit=NOW - timedelta(days=1),
            store_code=STORE,
            tier="gold",
            status=MemberStatus.MERGED,
        ),
    )
