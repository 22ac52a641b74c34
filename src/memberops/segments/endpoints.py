"""`/v1/segments`: define, preview, materialise, read and export member segments.

Roles: admin and marketer create, edit, delete and materialise; analysts read, preview
and export; a manager may preview, counted over the members whose home store is the
key's store only (a manager key without a store gets 403). Staff, pos and member keys
get 403. Member ids are pseudonymous (`p_...`) for everyone but admins; exports are
always pseudonymous and never carry a name, phone or birthday.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import OpaqueId, ReadSessionDep, RuntimeDep, SessionDep
from memberops.api.errors import error_responses
from memberops.errors import Forbidden
from memberops.privacy.pseudonyms import pseudonymous_id
from memberops.runtime import Runtime
from memberops.segments import service
from memberops.segments.fields import FUNCTIONS, all_fields
from memberops.segments.models import Segment
from memberops.segments.schemas import (
    FieldRead,
    HistoryRead,
    MaterialiseRead,
    MemberRow,
    MembersRead,
    PreviewIn,
    PreviewRead,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
)

__all__ = ["router"]

router = APIRouter(prefix="/segments", tags=["segments"])

WriterDep = Annotated[Actor, Depends(require_roles("admin", "marketer"))]
ReaderDep = Annotated[Actor, Depends(require_roles("admin", "marketer", "analyst"))]
PreviewerDep = Annotated[Actor, Depends(require_roles("admin", "marketer", "analyst", "manager"))]

_READ = error_responses(401, 403, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)


def _shown_id(runtime: Runtime, actor: Actor, member_id: str) -> str:
    return member_id if actor.role == "admin" else pseudonymous_id(runtime.keyring, member_id)


def _read(session: Any, segment: Segment) -> SegmentRead:
    return SegmentRead(
        id=segment.id,
        name=segment.name,
        expression=segment.expression,
        description=segment.description,
        owner=segment.owner,
        version=segment.version,
        created_at=segment.created_at.isoformat(),
        updated_at=segment.updated_at.isoformat(),
        materialised_at=segment.materialised_at.isoformat() if segment.materialised_at else None,
        size=service.segment_size(session, segment.id),
    )


@router.get("/fields", response_model=list[FieldRead], responses=_READ)
def get_fields(actor: PreviewerDep) -> list[FieldRead]:
    """Every field and function an expression can use."""
    rows = [
        FieldRead(name=f.name, kind=f.kind, description=f.description)
        for f in all_fields().values()
    ]
    rows += [
        FieldRead(name=name, kind="bool", description=spec.description, function=True)
        for name, spec in FUNCTIONS.items()
    ]
    return rows


@router.post("/preview", response_model=PreviewRead, responses=_READ)
def post_preview(
    body: PreviewIn, session: ReadSessionDep, runtime: RuntimeDep, actor: PreviewerDep
) -> PreviewRead:
    """Count the members an expression matches now (nothing is stored)."""
    store = None
    if actor.role == "manager":
        if not actor.store_code:
            raise Forbidden("a manager key needs a store to preview segments")
        store = actor.store_code
    preview = service.preview_segment(
        session, body.expression, home_store_code=store, sample=body.sample
    )
    return PreviewRead(
        count=preview.count,
        sample=[pseudonymous_id(runtime.keyring, m) for m in preview.sample_member_ids],
        expression=preview.expression,
        scope="store" if store else "chain",
    )


@router.get("", response_model=list[SegmentRead], responses=_READ)
def list_segments(session: ReadSessionDep, actor: ReaderDep) -> list[SegmentRead]:
    """Every stored segment, by name."""
    return [_read(session, s) for s in service.list_segments(session)]


@router.post("", response_model=SegmentRead, status_code=201, responses=_WRITE)
def create_segment(body: SegmentCreate, session: SessionDep, actor: WriterDep) -> SegmentRead:
    """Store a definition (409 when the name is taken)."""
    segment = service.create_segment(
        session,
        name=body.name,
        expression=body.expression,
        description=body.description,
        actor=actor,
    )
    return _read(session, segment)


@router.get("/{segment_id}", response_model=SegmentRead, responses=_READ)
def get_segment(segment_id: OpaqueId, session: ReadSessionDep, actor: ReaderDep) -> SegmentRead:
    """One segment."""
    return _read(session, service.get_segment_or_raise(session, segment_id))


@router.put("/{segment_id}", response_model=SegmentRead, responses=_WRITE)
def put_segment(
    segment_id: OpaqueId, body: SegmentUpdate, session: SessionDep, actor: WriterDep
) -> SegmentRead:
    """Save a new version of the definition."""
    segment = service.update_segment(
        session,
        segment_id,
        expression=body.expression,
        description=body.description,
        actor=actor,
    )
    return _read(session, segment)


@router.delete("/{segment_id}", status_code=204, responses=_WRITE)
def delete_segment(segment_id: OpaqueId, session: SessionDep, actor: WriterDep) -> Response:
    """Remove the segment with its history."""
    service.delete_segment(session, segment_id, actor=actor)
    return Response(status_code=204)


@router.post("/{segment_id}/materialise", response_model=MaterialiseRead, responses=_WRITE)
def materialise(segment_id: OpaqueId, session: SessionDep, actor: WriterDep) -> MaterialiseRead:
    """Bring the stored membership up to date (idempotent)."""
    run = service.materialise_segment(session, segment_id, actor=actor)
    return MaterialiseRead(
        segment_id=run.segment_id,
        version=run.version,
        at=run.at.isoformat(),
        entered=run.entered,
        left=run.left,
        size=run.size,
    )


@router.get("/{segment_id}/members", response_model=MembersRead, responses=_READ)
def get_members(
    segment_id: OpaqueId,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    actor: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MembersRead:
    """Current members as of the last materialisation."""
    segment = service.get_segment_or_raise(session, segment_id)
    rows = service.segment_members(session, segment.id, limit=limit, offset=offset)
    return MembersRead(
        segment_id=segment.id,
        size=service.segment_size(session, segment.id),
        members=[
            MemberRow(member=_shown_id(runtime, actor, m), entered_at=e.isoformat())
            for m, e in rows
        ],
    )


@router.get("/{segment_id}/history", response_model=HistoryRead, responses=_READ)
def get_history(segment_id: OpaqueId, session: ReadSessionDep, actor: ReaderDep) -> HistoryRead:
    """Versions of the definition and every materialisation."""
    history = service.segment_history(session, segment_id)
    return HistoryRead(
        segment_id=history["segment"].id, versions=history["versions"], runs=history["runs"]
    )


_MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@router.get(
    "/{segment_id}/export",
    responses={
        **_WRITE,
        200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}},
    },
)
def export(
    segment_id: OpaqueId,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ReaderDep,
    format: Annotated[str, Query(pattern="^(csv|parquet)$")] = "csv",
) -> Response:
    """Current members with pseudonymous ids, as CSV or Parquet (409 before the first
    materialisation)."""
    body = service.export_segment(session, runtime.keyring, segment_id, fmt=format, actor=actor)
    return Response(
        body,
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.{format}"'},
    )
