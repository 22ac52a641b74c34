"""The batch resolver against a real database: which member each record reaches."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from builders import active_members, load, member_of, open_reviews
from memberops.actor import Actor
from memberops.db import transaction
from memberops.identity.models import MemberIdentifier, MergeRecord
from memberops.identity.repository import find_members_by_identifier
from memberops.runtime import Runtime


def test_phone_in_any_format_reaches_the_same_member(seeded: Runtime, admin: Actor, order):
    formats = ["13812345678", "+86 138 1234 5678", "86-138-1234-5678", "(+86)13812345678"]
    load(
        seeded,
        admin,
        *[
            order(str(i), customer={"phone": p, "phone_verified": True})
            for i, p in enumerate(formats)
        ],
    )
    with seeded.sessions() as session:
        assert active_members(session) == 1
        assert len({member_of(session, str(i)) for i in range(len(formats))}) == 1


def test_app_record_carrying_card_and_phone_merges_pos_and_app_members(
    seeded: Runtime, admin: Actor, order
):
    load(
        seeded,
        admin,
        order("1", customer={"card_no": "HD0000000001"}),
        order(
            "a1",
            source="app",
            channel="app",
            customer={"app_user_id": "app-77", "phone": "13900000001", "phone_verified": True},
        ),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 2
    load(
        seeded,
        admin,
        order(
            "2",
            customer={"card_no": "hd-0000000001", "phone": "13900000001", "phone_verified": True},
        ),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 1
        assert member_of(session, "1") == member_of(session, "a1", "app") == member_of(session, "2")
        merge = session.scalars(select(MergeRecord)).one()
        assert merge.evidence == ["phone"]


def test_family_sharing_a_phone_with_different_cards_is_queued_not_fused(
    seeded: Runtime, admin: Actor, order
):
    shared = {"phone": "13700000000", "phone_verified": True}
    load(
        seeded,
        admin,
        order("1", customer={**shared, "card_no": "HD1"}),
        order("2", customer={**shared, "card_no": "HD2"}),
        order("3", customer={**shared, "card_no": "HD1"}),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 2
        assert member_of(session, "1") == member_of(session, "3") != member_of(session, "2")
        assert open_reviews(session, "shared_identifier") == 1
        assert session.scalar(select(func.count()).select_from(MergeRecord)) == 0


def test_phone_alone_shared_by_two_cardholders_is_not_guessed(seeded: Runtime, admin: Actor, order):
    shared = {"phone": "13700000000", "phone_verified": True}
    load(
        seeded,
        admin,
        order("1", customer={**shared, "card_no": "HD1"}),
        order("2", customer={**shared, "card_no": "HD2"}),
        order("3", customer=shared),
    )
    with seeded.sessions() as session:
        assert member_of(session, "3") is None
        assert open_reviews(session, "ambiguous_identifier") == 1


WEAK_IDENTIFIERS = {
    "unverified email": {"email": "Family@Example.com"},
    "unverified phone": {"phone": "13811112222", "phone_verified": False},
    "device id": {"device_id": "dev-1"},
}


@pytest.mark.parametrize("weak", list(WEAK_IDENTIFIERS.values()), ids=list(WEAK_IDENTIFIERS))
def test_a_weak_identifier_never_merges_two_members(
    seeded: Runtime, admin: Actor, order, weak: dict[str, Any]
):
    # WeChat openids are exclusive but not one-per-member: nothing but the weak
    # identifier could keep these two records apart or bring them together.
    load(
        seeded,
        admin,
        order("1", customer={"wechat_openid": "openid-1", **weak}),
        order("2", customer={"wechat_openid": "openid-2", **weak}),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 2
        assert member_of(session, "1") != member_of(session, "2")


@pytest.mark.parametrize("weak", list(WEAK_IDENTIFIERS.values()), ids=list(WEAK_IDENTIFIERS))
def test_a_weak_identifier_alone_never_creates_or_attaches_a_member(
    seeded: Runtime, admin: Actor, order, weak: dict[str, Any]
):
    load(
        seeded,
        admin,
        order("1", customer={"wechat_openid": "openid-1", **weak}),
        order("2", customer=dict(weak)),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 1
        assert member_of(session, "2") is None


def test_two_cards_never_collapse_into_one_member_even_through_a_verified_email(
    seeded: Runtime, admin: Actor, order
):
    # The verified email is strong and would attach the second record; the one-card rule
    # keeps the second card holder apart and queues the shared email for review.
    email = {"email": "family@example.com", "email_verified": True}
    load(
        seeded,
        admin,
        order("1", customer={"card_no": "HD1", **email}),
        order("2", customer={"card_no": "HD2", **email}),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 2
        assert member_of(session, "1") != member_of(session, "2")
        assert open_reviews(session, "shared_identifier") == 1


def test_one_card_seen_with_two_verified_phones_goes_to_review(
    seeded: Runtime, admin: Actor, order
):
    load(
        seeded,
        admin,
        order("1", customer={"card_no": "HD1", "phone": "13811110000", "phone_verified": True}),
        order("2", customer={"card_no": "HD1", "phone": "13922220000", "phone_verified": True}),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 1
        assert member_of(session, "2") == member_of(session, "1")
        assert open_reviews(session, "contradiction") == 1
        found = find_members_by_identifier(
            session, seeded.keyring, kind="phone", value="+8613922220000"
        )
        assert found == []  # the second phone was not silently added to the card holder


def test_two_cards_linked_by_one_phone_never_collapse(seeded: Runtime, admin: Actor, order):
    load(
        seeded,
        admin,
        order("1", customer={"card_no": "HD1"}),
        order("2", customer={"card_no": "HD2", "phone": "13811110000", "phone_verified": True}),
        order("3", customer={"card_no": "HD1", "phone": "13811110000", "phone_verified": True}),
    )
    with seeded.sessions() as session:
        assert active_members(session) == 2
        assert member_of(session, "3") == member_of(session, "1")
        assert session.scalar(select(func.count()).select_from(MergeRecord)) == 0
        assert open_reviews(session) >= 1


def test_unique_namespace_is_enforced_by_the_database(seeded: Runtime, admin: Actor, order):
    load(
        seeded,
        admin,
        order("1", customer={"card_no": "HD1"}),
        order("2", customer={"card_no": "HD2"}),
    )
    with pytest.raises(Exception), transaction(seeded.sessions) as session:  # noqa: B017
        a, b = session.scalars(select(MemberIdentifier).where(MemberIdentifier.kind == "card_no"))
        b.member_id = a.member_id
        session.flush()


def test_lookup_by_phone_uses_only_the_blind_index(seeded: Runtime, admin: Actor, order):
    load(seeded, admin, order("1"))
    with seeded.sessions() as session:
        statements: list[str] = []
        from sqlalchemy import event

        def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        engine = seeded.engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            found = find_members_by_identifier(
                session, seeded.keyring, kind="phone", value="+8613812345678"
            )
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(found) == 1
        assert len(queries) == 1 and "identifiers.blind_index IN" in queries[0]
        assert "value_enc" not in queries[0]
