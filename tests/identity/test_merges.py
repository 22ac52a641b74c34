"""Merges and unmerges against a real database: the older member survives, and an
unmerge restores both members exactly."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from builders import active_members, load, member_of
from memberops.actor import Actor
from memberops.db import transaction
from memberops.errors import Conflict
from memberops.identity.merges import merge_by_decision, unmerge
from memberops.identity.models import IdentityReview, MergeRecord
from memberops.identity.repository import find_members_by_identifier
from memberops.members.models import Member, MemberStatus
from memberops.members.service import decrypt_basic
from memberops.privacy.consent import current_consents, record_consent
from memberops.runtime import Runtime


def test_survivor_is_the_older_member_and_keeps_its_fields(seeded: Runtime, admin: Actor, order):
    load(
        seeded,
        admin,
        order(
            "1",
            at="2025-01-01T12:00:00+08:00",
            customer={"card_no": "HD1", "name": "王芳", "birthday": "1990-05-01"},
        ),
        order(
            "a",
            source="app",
            channel="app",
            at="2025-06-01T12:00:00+08:00",
            customer={
                "app_user_id": "u-1",
                "phone": "13800001111",
                "phone_verified": True,
                "name": "Fang W.",
                "nickname": "芳芳",
            },
        ),
        order(
            "2",
            at="2025-07-01T12:00:00+08:00",
            customer={"card_no": "HD1", "phone": "13800001111", "phone_verified": True},
        ),
    )
    with seeded.sessions() as session:
        merge = session.scalars(select(MergeRecord)).one()
        survivor = session.get(Member, merge.survivor_id)
        assert survivor is not None
        assert member_of(session, "1") == survivor.id
        basic = decrypt_basic(seeded.keyring, survivor)
        assert basic == {"name": "王芳", "nickname": "芳芳", "birthday": "1990-05-01"}


def test_unmerge_restores_both_members_with_their_history(seeded: Runtime, admin: Actor, order):
    load(
        seeded,
        admin,
        order("1", at="2025-01-01T12:00:00+08:00", customer={"card_no": "HD1", "name": "A"}),
        order(
            "a",
            source="app",
            channel="app",
            at="2025-02-01T12:00:00+08:00",
            customer={"app_user_id": "u-1", "phone": "13800001111", "phone_verified": True},
        ),
    )
    with transaction(seeded.sessions) as session:
        card_member = member_of(session, "1")
        app_member = member_of(session, "a", "app")
        assert card_member and app_member and card_member != app_member
        record_consent(
            session,
            member_id=app_member,
            purpose="marketing",
            granted=True,
            channel="app",
            source="app",
            notice_version="v1",
            actor=admin,
        )
    load(
        seeded,
        admin,
        order("2", customer={"card_no": "HD1", "phone": "13800001111", "phone_verified": True}),
    )
    load(seeded, admin, order("a2", source="app", channel="app", customer={"app_user_id": "u-1"}))
    with seeded.sessions() as session:
        merge = session.scalars(select(MergeRecord)).one()
        assert (merge.survivor_id, merge.absorbed_id) == (card_member, app_member)
        assert {
            member_of(session, k, s) for k, s in (("1", "pos"), ("a", "app"), ("a2", "app"))
        } == {card_member}
        assert current_consents(session, card_member)["marketing"] is True
    with transaction(seeded.sessions) as session:
        unmerge(session, seeded.keyring, merge_id=merge.id, actor=admin)
    with seeded.sessions() as session:
        assert member_of(session, "1") == member_of(session, "2") == card_member
        assert member_of(session, "a", "app") == app_member
        assert member_of(session, "a2", "app") == app_member  # arrived after the merge
        assert current_consents(session, app_member)["marketing"] is True
        assert current_consents(session, card_member)["marketing"] is False
        assert find_members_by_identifier(
            session, seeded.keyring, kind="app_user_id", value="u-1"
        ) == [app_member]
        restored = session.get(Member, app_member)
        assert restored is not None and restored.status == MemberStatus.ACTIVE
    with pytest.raises(Conflict), transaction(seeded.sessions) as session:
        unmerge(session, seeded.keyring, merge_id=merge.id, actor=admin)


def test_an_undone_merge_is_not_redone_by_the_same_evidence(seeded: Runtime, admin: Actor, order):
    load(
        seeded,
        admin,
        order("1", at="2025-01-01T12:00:00+08:00", customer={"card_no": "HD1"}),
        order(
            "a",
            source="app",
            channel="app",
            at="2025-02-01T12:00:00+08:00",
            customer={"app_user_id": "u-1", "phone": "13800001111", "phone_verified": True},
        ),
        order("2", customer={"card_no": "HD1", "phone": "13800001111", "phone_verified": True}),
    )
    with transaction(seeded.sessions) as session:
        merge = session.scalars(select(MergeRecord)).one()
        unmerge(session, seeded.keyring, merge_id=merge.id, actor=admin)
    load(
        seeded,
        admin,
        order("3", customer={"card_no": "HD1", "phone": "13800001111", "phone_verified": True}),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 2
        assert (
            session.scalar(
                select(func.count()).select_from(MergeRecord).where(MergeRecord.status == "active")
            )
            == 0
        )
        assert member_of(session, "3") == member_of(session, "1")
        reasons = session.scalars(select(IdentityReview.detail)).all()
        assert any("undone before" in r for r in reasons)


def test_a_reviewer_can_merge_two_cardholders_and_undo_it(seeded: Runtime, admin: Actor, order):
    load(
        seeded,
        admin,
        order("1", at="2025-01-01T12:00:00+08:00", customer={"card_no": "HD1"}),
        order("2", at="2025-02-01T12:00:00+08:00", customer={"card_no": "HD2"}),
    )
    with transaction(seeded.sessions) as session:
        first, second = member_of(session, "1"), member_of(session, "2")
        assert first and second
        (record,) = merge_by_decision(
            session,
            seeded.keyring,
            member_ids=[second, first],
            actor=admin,
            reason="replacement card",
        )
        assert (record.survivor_id, record.absorbed_id) == (first, second)
    with seeded.sessions() as session:
        assert member_of(session, "2") == first
        # The survivor keeps one active card; the other is kept for the undo.
        assert find_members_by_identifier(session, seeded.keyring, kind="card_no", value="HD1") == [
            first
        ]
        assert (
            find_members_by_identifier(session, seeded.keyring, kind="card_no", value="HD2") == []
        )
    with transaction(seeded.sessions) as session:
        unmerge(session, seeded.keyring, merge_id=record.id, actor=admin)
    with seeded.sessions() as session:
        assert member_of(session, "2") == second
        assert find_members_by_identifier(session, seeded.keyring, kind="card_no", value="HD2") == [
            second
        ]
