"""Segment use cases: define, preview, materialise, read members and history, export.

Services flush and never commit; the edge (request or command) owns the transaction.
Materialising diffs the definition's current result against the open stays in two
statements that run in the database (leave, then enter), under a row lock on the
segment, so running it twice changes nothing and two callers at once cannot both add a
member (the partial unique index on open stays is the backstop).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import exists, func, literal, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from memberops import clock
from memberops.actor import Actor
from memberops.db import IdString, UtcDateTime
from memberops.errors import Conflict, NotFound, ValidationError
from memberops.privacy import audit
from memberops.privacy.crypto import KeyRing
from memberops.privacy.pseudonyms import pseudonymous_id
from memberops.segments.models import Segment, SegmentMembership, SegmentRun, SegmentVersion
from memberops.segments.repository import (
    compile_segment,
    count_members,
    open_members,
    parse_and_check,
)
from memberops.segments.rules import format_expression

__all__ = [
    "EXPORT_FORMATS",
    "Preview",
    "create_segment",
    "delete_segment",
    "export_segment",
    "get_segment_or_raise",
    "list_segments",
    "materialise_segment",
    "preview_segment",
    "segment_history",
    "segment_members",
    "segment_size",
    "update_segment",
]

EXPORT_FORMATS = ("csv", "parquet")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$")
_MAX_DESCRIPTION = 400


@dataclass(frozen=True)
class Preview:
    """A count without writing anything, and the first few member ids (sorted)."""

    count: int
    sample_member_ids: list[str]
    expression: str  # canonical form


def _check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise ValidationError(
            "segment",
            "name",
            "1-80 letters, digits, spaces, '_', '.' or '-', not starting with a sign",
        )
    return name


def _check_description(description: str) -> str:
    if len(description) > _MAX_DESCRIPTION:
        raise ValidationError(
            "segment", "description", f"longer than {_MAX_DESCRIPTION} characters"
        )
    return description


def preview_segment(
    session: Session, expression: str, *, home_store_code: str | None = None, sample: int = 10
) -> Preview:
    """Count the members an expression matches now; writes nothing."""
    node = parse_and_check(expression)
    stmt = compile_segment(session, node, home_store_code=home_store_code)
    count = count_members(session, stmt)
    ids = list(session.scalars(stmt.order_by("member_id").limit(sample))) if sample else []
    return Preview(
        count=count, sample_member_ids=[str(i) for i in ids], expression=format_expression(node)
    )


def get_segment_or_raise(session: Session, ref: str, *, lock: bool = False) -> Segment:
    """A segment by id or by name; NotFound otherwise. `lock` takes its row lock."""
    stmt = select(Segment).where((Segment.id == ref) | (Segment.name == ref))
    if lock:
        stmt = stmt.with_for_update()
    segment = session.scalars(stmt).first()
    if segment is None:
        raise NotFound("segment not found")
    return segment


def list_segments(session: Session) -> list[Segment]:
    """Every segment, by name."""
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def create_segment(
    session: Session, *, name: str, expression: str, description: str = "", actor: Actor
) -> Segment:
    """Store a new definition (version 1); Conflict when the name is taken."""
    name = _check_name(name)
    description = _check_description(description)
    node = parse_and_check(expression)
    if session.scalar(select(Segment.id).where(Segment.name == name)) is not None:
        raise Conflict("a segment with this name already exists")
    now = clock.now()
    segment = Segment(
        name=name,
        expression=format_expression(node),
        description=description,
        owner=actor.label,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(segment)
    session.flush()
    _add_version(session, segment, actor, now)
    audit.record(session, actor, "segments.create", reason=f"segment {segment.id}")
    return segment


def _add_version(session: Session, segment: Segment, actor: Actor, at: datetime) -> None:
    session.add(
        SegmentVersion(
            segment_id=segment.id,
            version=segment.version,
            expression=segment.expression,
            description=segment.description,
            changed_by=actor.label,
            changed_at=at,
        )
    )
    session.flush()


def update_segment(
    session: Session,
    ref: str,
    *,
    expression: str | None = None,
    description: str | None = None,
    actor: Actor,
) -> Segment:
    """Save a new version of the definition (unchanged input saves nothing)."""
    segment = get_segment_or_raise(session, ref, lock=True)
    new_expression = segment.expression
    if expression is not None:
        new_expression = format_expression(parse_and_check(expression))
    new_description = (
        segment.description if description is None else _check_description(description)
    )
    if (new_expression, new_description) == (segment.expression, segment.description):
        return segment
    now = clock.now()
    segment.expression, segment.description = new_expression, new_description
    segment.version += 1
    segment.updated_at = now
    _add_version(session, segment, actor, now)
    audit.record(
        session, actor, "segments.update", reason=f"segment {segment.id} v{segment.version}"
    )
    return segment


def delete_segment(session: Session, ref: str, *, actor: Actor) -> None:
    """Remove a segment with its versions, runs and membership history."""
    segment = get_segment_or_raise(session, ref, lock=True)
    for model in (SegmentMembership, SegmentRun, SegmentVersion):
        session.query(model).filter(model.segment_id == segment.id).delete()
    session.delete(segment)
    session.flush()
    audit.record(session, actor, "segments.delete", reason=f"segment {segment.id}")


def materialise_segment(session: Session, ref: str, *, actor: Actor) -> SegmentRun:
    """Bring the stored membership up to date: close stays of members who no longer
    match, open stays for those who newly match. Idempotent; one transaction."""
    segment = get_segment_or_raise(session, ref, lock=True)
    node = parse_and_check(segment.expression)
    now = clock.now()
    current = compile_segment(session, node).subquery("current")
    before = segment_size(session, segment.id)
    left_result = session.execute(
        update(SegmentMembership)
        .where(
            SegmentMembership.segment_id == segment.id,
            SegmentMembership.left_at.is_(None),
            # Probed per open stay through the members' primary keys.
            ~exists().where(current.c.member_id == SegmentMembership.member_id),
        )
        .values(left_at=now)
        .execution_options(synchronize_session=False)
    )
    left = int(getattr(left_result, "rowcount", 0) or 0)
    # Members already in skip on the unique index of open stays (one index probe each):
    # no anti-join for the planner to get wrong on stale statistics, and no duplicate
    # even if the row lock were ever bypassed.
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        dialect_insert(SegmentMembership)
        .from_select(
            ["segment_id", "member_id", "entered_at"],
            select(
                literal(segment.id, IdString()),
                current.c.member_id,
                literal(now, UtcDateTime()),
            ).where(true()),  # SQLite needs a WHERE before ON CONFLICT after a SELECT
        )
        .on_conflict_do_nothing(
            index_elements=["segment_id", "member_id"],
            index_where=SegmentMembership.left_at.is_(None),
        )
    )
    # Counted rather than read from rowcount, which drivers do not all report for
    # INSERT ... SELECT; exact because the row lock keeps other writers out.
    size = segment_size(session, segment.id)
    entered = size - (before - left)
    run = SegmentRun(
        segment_id=segment.id,
        version=segment.version,
        at=now,
        entered=entered,
        left=left,
        size=size,
        actor=actor.label,
    )
    session.add(run)
    segment.materialised_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "segments.materialise",
        reason=f"segment {segment.id} v{segment.version}: +{run.entered} -{run.left} = {size}",
    )
    return run


def segment_size(session: Session, segment_id: str) -> int:
    """Members currently in the stored segment."""
    return int(
        session.scalar(select(func.count()).select_from(open_members(segment_id).subquery())) or 0
    )


def segment_members(
    session: Session, ref: str, *, limit: int = 100, offset: int = 0
) -> list[tuple[str, datetime]]:
    """(member id, entered at) of the current members, by member id."""
    segment = get_segment_or_raise(session, ref)
    rows = session.execute(
        select(SegmentMembership.member_id, SegmentMembership.entered_at)
        .where(SegmentMembership.segment_id == segment.id, SegmentMembership.left_at.is_(None))
        .order_by(SegmentMembership.member_id)
        .limit(limit)
        .offset(offset)
    )
    return [(str(m), e) for m, e in rows]


def segment_history(session: Session, ref: str) -> dict[str, Any]:
    """The definition's versions and every materialisation, newest first."""
    segment = get_segment_or_raise(session, ref)
    versions = session.scalars(
        select(SegmentVersion)
        .where(SegmentVersion.segment_id == segment.id)
        .order_by(SegmentVersion.version.desc())
    )
    runs = session.scalars(
        select(SegmentRun)
        .where(SegmentRun.segment_id == segment.id)
        .order_by(SegmentRun.at.desc(), SegmentRun.id)
    )
    return {
        "segment": segment,
        "versions": [
            {
                "version": v.version,
                "expression": v.expression,
                "description": v.description,
                "changed_by": v.changed_by,
                "changed_at": v.changed_at.isoformat(),
            }
            for v in versions
        ],
        "runs": [
            {
                "at": r.at.isoformat(),
                "version": r.version,
                "entered": r.entered,
                "left": r.left,
                "size": r.size,
                "actor": r.actor,
            }
            for r in runs
        ],
    }


def export_segment(
    session: Session, keyring: KeyRing, ref: str, *, fmt: str, actor: Actor
) -> bytes:
    """The current members as CSV or Parquet: pseudonymous id and when they entered.

    Nothing personal leaves: no name, phone or birthday, and no real member id.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValidationError("export", "format", f"must be one of {', '.join(EXPORT_FORMATS)}")
    segment = get_segment_or_raise(session, ref)
    if segment.materialised_at is None:
        raise Conflict("the segment has not been materialised yet; materialise it first")
    rows = session.execute(
        select(SegmentMembership.member_id, SegmentMembership.entered_at)
        .where(SegmentMembership.segment_id == segment.id, SegmentMembership.left_at.is_(None))
        .order_by(SegmentMembership.member_id)
    )
    ids: list[str] = []
    entered: list[str] = []
    for member_id, entered_at in rows:
        ids.append(pseudonymous_id(keyring, str(member_id)))
        entered.append(entered_at.isoformat())
    audit.record(
        session,
        actor,
        "segments.export",
        reason=f"segment {segment.id}: {len(ids)} pseudonymous ids as {fmt}",
    )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["member", "segment", "entered_at"])
        writer.writerows((i, segment.name, e) for i, e in zip(ids, entered, strict=True))
        return out.getvalue().encode("utf-8")
    table = pa.table({"member": ids, "segment": [segment.name] * len(ids), "entered_at": entered})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
