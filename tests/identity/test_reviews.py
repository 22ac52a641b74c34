"""The review queue: a reviewer closes a case by merging or keeping members apart."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builders import active_members, load
from memberops.actor import Actor
from memberops.db import transaction
from memberops.errors import Conflict
from memberops.identity.models import IdentityReview
from memberops.identity.reviews import resolve_review
from memberops.runtime import Runtime


def test_review_cases_close_with_a_decision(seeded: Runtime, admin: Actor, order):
    shared = {"phone": "13700000000", "phone_verified": True}
    load(
        seeded,
        admin,
        order("1", customer={**shared, "card_no": "HD1"}),
        order("2", customer={**shared, "card_no": "HD2"}),
    )
    with transaction(seeded.sessions) as session:
        case = session.scalars(select(IdentityReview)).one()
        resolve_review(
            session,
            seeded.keyring,
            review_id=case.id,
            decision="keep_apart",
            actor=admin,
            note="mother and son",
        )
    with seeded.sessions() as session:
        assert active_members(session) == 2
        closed = session.get(IdentityReview, case.id)
        assert closed is not None and closed.status == "resolved"
    with pytest.raises(Conflict), transaction(seeded.sessions) as session:
        resolve_review(
            session, seeded.keyring, review_id=case.id, decision="merge", actor=admin, note="again"
        )
