"""Stored segments: versions, materialise as a diff with entry and exit history, export
without personal values; concurrent materialisations on PostgreSQL add nobody twice."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from builders import ADMIN, MARKETER
from memberops.clock import FixedClock
from memberops.db import run_in_transaction, transaction
from memberops.errors import Conflict, NotFound, ValidationError
from memberops.members.models import Member, MemberStatus
from memberops.pipeline.models import MemberMetrics
from memberops.privacy.pseudonyms import pseudonymous_id
from memberops.runtime import Runtime
from memberops.segments import service
from memberops.segments.models import SegmentMembership
from memberops.segments.rules import ExpressionError
from segments.conftest import NOW, Chain

REGULARS = "visits >= 3"


def _create(runtime: Runtime, expression: str = REGULARS, name: str = "regulars") -> str:
    with transaction(runtime.sessions) as session:
        return service.create_segment(session, name=name, expression=expression, actor=MARKETER).id


def _stays(runtime: Runtime, segment_id: str) -> list[tuple[str, bool]]:
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(SegmentMembership.member_id, SegmentMembership.left_at)
            .where(SegmentMembership.segment_id == segment_id)
            .order_by(SegmentMembership.id)
        )
        return [(m, left is not None) for m, left in rows]


def test_preview_counts_without_writing(seeded: Runtime, chain: Chain) -> None:
    with transaction(seeded.sessions) as session:
        preview = service.preview_segment(session, "visits>=3", sample=1)
        assert preview.count == 2
        assert len(preview.sample_member_ids) == 1
        assert preview.expression == "visits >= 3"
        assert session.scalar(select(func.count()).select_from(SegmentMembership)) == 0


def test_create_stores_canonical_text_and_refuses_a_taken_name(
    seeded: Runtime, chain: Chain
) -> None:
    _create(seeded, "visits>=3  AND consent('marketing')")
    with transaction(seeded.sessions) as session:
        segment = service.get_segment_or_raise(session, "regulars")
        assert segment.expression == 'visits >= 3 and consent("marketing")'
        assert segment.owner == MARKETER.label
        with pytest.raises(Conflict):
            service.create_segment(session, name="regulars", expression=REGULARS, actor=ADMIN)
        with pytest.raises(ValidationError, match="field name"):
            service.create_segment(session, name="-bad", expression=REGULARS, actor=ADMIN)
        with pytest.raises(ExpressionError, match="column 1: unknown field"):
            service.create_segment(session, name="x", expression="vists > 1", actor=ADMIN)


def test_updates_keep_every_version(seeded: Runtime, chain: Chain) -> None:
    segment_id = _create(seeded)
    with transaction(seeded.sessions) as session:
        service.update_segment(session, segment_id, expression="visits >= 5", actor=ADMIN)
        service.update_segment(session, segment_id, expression="visits >= 5", actor=ADMIN)
        service.update_segment(session, segment_id, description="heavy users", actor=ADMIN)
        history = service.segment_history(session, segment_id)
    assert [v["version"] for v in history["versions"]] == [3, 2, 1]
    assert [v["expression"] for v in history["versions"]] == [
        "visits >= 5",
        "visits >= 5",
        "visits >= 3",
    ]


def test_materialise_records_who_entered_and_who_left(
    seeded: Runtime, chain: Chain, clock: FixedClock
) -> None:
    segment_id = _create(seeded)
    with transaction(seeded.sessions) as session:
        first = service.materialise_segment(session, "regulars", actor=MARKETER)
    assert (first.entered, first.left, first.size) == (2, 0, 2)

    # Running again changes nothing.
    clock.set(clock.now() + timedelta(hours=1))
    with transaction(seeded.sessions) as session:
        again = service.materialise_segment(session, segment_id, actor=MARKETER)
    assert (again.entered, again.left, again.size) == (0, 0, 2)

    # The new member comes back twice more; the lapsed one is erased from the pipeline.
    clock.set(clock.now() + timedelta(days=1))
    with transaction(seeded.sessions) as session:
        session.get(MemberMetrics, chain.red_new).visits = 3  # type: ignore[union-attr]
        session.get(Member, chain.black_lapsed).status = MemberStatus.MERGED  # type: ignore[union-attr]
    with transaction(seeded.sessions) as session:
        second = service.materialise_segment(session, segment_id, actor=MARKETER)
        members = [m for m, _ in service.segment_members(session, segment_id)]
        history = service.segment_history(session, segment_id)
    assert (second.entered, second.left, second.size) == (1, 1, 2)
    assert sorted(members) == sorted([chain.gold_regular, chain.red_new])
    assert sorted(_stays(seeded, segment_id)) == sorted(
        [(chain.gold_regular, False), (chain.black_lapsed, True), (chain.red_new, False)]
    )
    assert [(r["entered"], r["left"], r["size"]) for r in history["runs"]] == [
        (1, 1, 2),
        (0, 0, 2),
        (2, 0, 2),
    ]

    # Coming back opens a second stay; the first one stays closed.
    with transaction(seeded.sessions) as session:
        session.get(Member, chain.black_lapsed).status = MemberStatus.ACTIVE  # type: ignore[union-attr]
    with transaction(seeded.sessions) as session:
        third = service.materialise_segment(session, segment_id, actor=MARKETER)
    assert (third.entered, third.left, third.size) == (1, 0, 3)
    stays = _stays(seeded, segment_id)
    assert stays.count((chain.black_lapsed, True)) == 1
    assert stays.count((chain.black_lapsed, False)) == 1


def test_export_has_pseudonymous_ids_and_nothing_personal(seeded: Runtime, chain: Chain) -> None:
    segment_id = _create(seeded)
    with transaction(seeded.sessions) as session:
        with pytest.raises(Conflict, match="materialise it first"):
            service.export_segment(session, seeded.keyring, segment_id, fmt="csv", actor=MARKETER)
        service.materialise_segment(session, segment_id, actor=MARKETER)
    with transaction(seeded.sessions) as session:
        body = service.export_segment(
            session, seeded.keyring, segment_id, fmt="csv", actor=MARKETER
        )
        parquet = service.export_segment(
            session, seeded.keyring, segment_id, fmt="parquet", actor=MARKETER
        )
    expected = sorted(
        pseudonymous_id(seeded.keyring, m) for m in (chain.gold_regular, chain.black_lapsed)
    )
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert list(rows[0]) == ["member", "segment", "entered_at"]
    assert sorted(r["member"] for r in rows) == expected
    text = body.decode()
    for member_id in vars(chain).values():
        assert member_id not in text
    table = pq.read_table(io.BytesIO(parquet))
    assert table.column_names == ["member", "segment", "entered_at"]
    assert sorted(table.column("member").to_pylist()) == expected


def test_delete_removes_the_history(seeded: Runtime, chain: Chain) -> None:
    segment_id = _create(seeded)
    with transaction(seeded.sessions) as session:
        service.materialise_segment(session, segment_id, actor=MARKETER)
    with transaction(seeded.sessions) as session:
        service.delete_segment(session, "regulars", actor=ADMIN)
    with transaction(seeded.sessions) as session:
        with pytest.raises(NotFound):
            service.get_segment_or_raise(session, segment_id)
        assert session.scalar(select(func.count()).select_from(SegmentMembership)) == 0


def test_concurrent_materialise_adds_nobody_twice(seeded: Runtime, chain: Chain) -> None:
    if seeded.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    segment_id = _create(seeded)
    with transaction(seeded.sessions) as session:
        extra = [Member(id=f"{n:026x}", status=MemberStatus.ACTIVE) for n in range(1, 41)]
        session.add_all(extra)
        session.flush()
        for m in extra:
            session.add(
                MemberMetrics(
                    member_id=m.id,
                    home_store_source="visits",
                    spend_cents=100,
                    orders=4,
                    visits=4,
                    first_visit_at=NOW,
                    last_visit_at=NOW,
                    spend_per_person_cents=100,
                )
            )
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                run_in_transaction(
                    seeded.sessions,
                    lambda s: service.materialise_segment(s, segment_id, actor=MARKETER),
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stays = _stays(seeded, segment_id)
    assert len(stays) == 42
    assert len({m for m, _ in stays}) == 42
    with transaction(seeded.sessions) as session:
        history = service.segment_history(session, segment_id)
    assert sum(r["entered"] for r in history["runs"]) == 42
    assert len(history["runs"]) == 12
