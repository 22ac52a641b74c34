"""Identity use cases other capabilities call: who is this (lookup by any identifier),
and which identifiers a profile shows."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.identity.repository import find_members_by_identifier, identifiers_of
from memberops.identity.rules import normalise
from memberops.members.models import MemberStatus
from memberops.members.repository import get_member_or_none
from memberops.members.service import get_member_or_raise
from memberops.privacy.crypto import KeyRing

__all__ = ["find_member_ids", "identifiers_section"]

_MEMBER_ID = re.compile(r"^[0-9a-f]{26}$")


def find_member_ids(session: Session, keyring: KeyRing, query: str) -> list[str]:
    """Members matching a member id, card number, phone, email, app or WeChat id.

    Lookups by value go through the blind index only (one indexed read per kind tried).
    """
    query = query.strip()
    if _MEMBER_ID.match(query):
        if get_member_or_none(session, query) is None:
            return []
        member = get_member_or_raise(session, query)
        return [] if member.status == MemberStatus.ERASED else [member.id]
    kinds = [
        "card_no",
        "phone",
        "email",
        "app_user_id",
        "wechat_unionid",
        "wechat_openid",
        "pos_customer_code",
    ]
    if "@" in query:
        kinds = ["email"]
    for kind in kinds:
        try:
            value = normalise(kind, query)
        except ValueError:
            continue
        found = find_members_by_identifier(session, keyring, kind=kind, value=value)
        if found:
            return list(dict.fromkeys(get_member_or_raise(session, m).id for m in found))
    return []


def identifiers_section(
    session: Session, keyring: KeyRing, member_id: str, actor: Actor
) -> list[dict[str, Any]]:
    """The identifiers a profile read shows: masked for every role but admin and the
    member themself (registered as a profile section by memberops.capabilities)."""
    masked = actor.role not in ("admin", "member")
    return identifiers_of(session, keyring, member_id, masked=masked)
