"""The label step of the pipeline: computed labels refreshed for every member.

Runs at the edge (it owns its transactions, one per batch of members) and is called by
`memberops labels refresh` and by the demo after loading.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from memberops.actor import system_actor
from memberops.db import transaction
from memberops.labels.computed import (
    members_with_recurring_modifiers,
    refresh_service_need_labels,
)
from memberops.labels.models import Label
from memberops.runtime import Runtime

__all__ = ["refresh_service_needs"]


def refresh_service_needs(
    runtime: Runtime,
    *,
    batch_size: int = 500,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Derive service-need labels from order modifiers for every member who has some."""
    actor = system_actor("labels.refresh")
    with transaction(runtime.sessions) as session:
        member_ids = members_with_recurring_modifiers(session)
    for start in range(0, len(member_ids), batch_size):
        with transaction(runtime.sessions) as session:
            for member_id in member_ids[start : start + batch_size]:
                refresh_service_need_labels(session, member_id, actor=actor)
        if on_progress is not None:
            on_progress(min(start + batch_size, len(member_ids)), len(member_ids))
    with transaction(runtime.sessions) as session:
        active = session.scalar(
            select(func.count())
            .select_from(Label)
            .where(Label.category == "service_need", Label.status == "active")
        )
    return {"members": len(member_ids), "active_labels": active or 0}
