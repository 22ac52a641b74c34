"""Revenue concentration on live data: known curve, Gini and top list per scope."""

from __future__ import annotations

from typing import Any

import pytest

from builders import SPEND_CHAIN_AS_OF, load_spend_chain, transactions_at_once
from memberops.actor import Actor
from memberops.concentration import SEGMENT_FIELDS
from memberops.concentration.service import read_concentration, read_top, run_concentration
from memberops.db import transaction
from memberops.errors import NotFound, ValidationError
from memberops.runtime import Runtime


def test_chain_curve_gini_and_top_list(seeded: Runtime, admin: Actor) -> None:
    ids = load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run = run_concentration(session, now=SPEND_CHAIN_AS_OF)
        data = read_concentration(session)
        top = read_top(session)
        top40 = read_top(session, share=0.4, limit=1, offset=1)
    assert set(run.scopes) == {"chain", "BJ001", "SH001"}
    assert data["members"] == 5 and data["revenue_cents"] == 102500
    assert data["gini"] == pytest.approx(257000 / 512500)
    assert data["top20_share"] == pytest.approx(50000 / 102500)
    assert data["curve"][39]["share_of_revenue"] == pytest.approx(0.8)
    assert data["curve"][99]["share_of_revenue"] == 1.0
    assert top["total"] == 1 and top["members"] == [
        {"member_id": ids[0], "spend_cents": 50000, "rank": 1}
    ]
    assert top40["total"] == 2 and top40["members"][0]["member_id"] == ids[3]
    assert top40["top_revenue_cents"] == 82000


def test_store_scope_counts_only_that_store(seeded: Runtime, admin: Actor) -> None:
    ids = load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_concentration(session, now=SPEND_CHAIN_AS_OF)
        sh = read_concentration(session, store_code="SH001")
        top = read_top(session, store_code="SH001", share=1.0)
    # SH001: member 0 spent 20000 over two visits, member 3 8000 over one.
    assert sh["members"] == 2 and sh["revenue_cents"] == 28000
    assert sh["gini"] == pytest.approx((2 * (8000 + 2 * 20000) - 3 * 28000) / (2 * 28000))
    assert [m["member_id"] for m in top["members"]] == [ids[0], ids[3]]


def test_segment_fields_give_chain_ranks(seeded: Runtime, admin: Actor) -> None:
    ids = load_spend_chain(seeded, admin)
    with transaction(seeded.sessions) as session:
        run_concentration(session, now=SPEND_CHAIN_AS_OF)
        ranks = dict(
            session.execute(SEGMENT_FIELDS["concentration.spend_rank"].query(session)).all()
        )
    assert ranks == {ids[0]: 1, ids[3]: 2, ids[2]: 3, ids[1]: 4, ids[4]: 5}


def test_reads_before_a_run_and_bad_shares_are_refused(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session:
        with pytest.raises(NotFound, match="concentration run"):
            read_concentration(session)
        with pytest.raises(ValidationError, match="share"):
            read_top(session, share=1.5)


def test_two_runs_at_once_both_succeed(seeded: Runtime, admin: Actor) -> None:
    load_spend_chain(seeded, admin)
    errors = transactions_at_once(
        seeded, lambda session: run_concentration(session, now=SPEND_CHAIN_AS_OF)
    )
    assert not errors, errors
    with transaction(seeded.sessions) as session:
        assert read_concentration(session)["members"] == 5


@pytest.mark.slow
def test_spark_engine_stores_what_duckdb_stores(seeded: Runtime, admin: Actor, spark: Any) -> None:
    load_spend_chain(seeded, admin)
    stored = {}
    for engine in ("duckdb", "spark"):
        with transaction(seeded.sessions) as session:
            run = run_concentration(session, now=SPEND_CHAIN_AS_OF, engine=engine, spark=spark)
            assert run.engine == engine
            stored[engine] = (
                run.scopes,
                [read_concentration(session, store_code=s) for s in (None, "BJ001", "SH001")],
                read_top(session, share=1.0),
            )
    assert stored["spark"] == stored["duckdb"]
