"""Who sees which field of a member: the role x field table, as data, and the projection
that applies it to a profile.

The table is the one place the rule is written down (docs/api.md shows the same table);
the profile read, the front-desk lookup and any console or report that shows a member
apply it through `project_profile` or `access_for`. A field a role is not listed for is
never shown to that role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "ACCESS_LEVELS",
    "FIELD_ACCESS",
    "PROFILE_ROLES",
    "ROLES",
    "access_for",
    "mask_name",
    "month_day",
    "project_profile",
]

ROLES: Final = ("admin", "member", "staff", "pos", "marketer", "analyst")

# What a role gets of a field:
#   full       - the value as stored (decrypted)
#   masked     - personal identifiers masked (138****5678); a name as 张* when no nickname
#   month_day  - a date without its year (MM-DD)
#   pseudonym  - a stable id that is not the member id (for marketing and analysis)
#   consented  - the value only while the member's consent for its purpose holds
ACCESS_LEVELS: Final = ("full", "masked", "month_day", "pseudonym", "consented")

_SELF_AND_ADMIN: Final = {"admin": "full", "member": "full"}

# field -> role -> access. Dotted names are fields inside a profile group. A store
# manager sees what staff see (the console opens only members of the manager's store).
FIELD_ACCESS: Final[Mapping[str, Mapping[str, str]]] = {
    "id": {
        **_SELF_AND_ADMIN,
        "staff": "full",
        "manager": "full",
        "pos": "full",
        "marketer": "pseudonym",
        "analyst": "pseudonym",
    },
    "status": {**_SELF_AND_ADMIN},
    "created_at": {**_SELF_AND_ADMIN},
    "basic.name": {**_SELF_AND_ADMIN},
    "basic.nickname": {**_SELF_AND_ADMIN},
    "basic.display_name": {**_SELF_AND_ADMIN, "staff": "masked", "manager": "masked"},
    "basic.birthday": {**_SELF_AND_ADMIN, "staff": "month_day", "manager": "month_day"},
    "basic.gender": {**_SELF_AND_ADMIN},
    "identifiers": {**_SELF_AND_ADMIN},
    "phone": {**_SELF_AND_ADMIN, "staff": "masked", "manager": "masked"},
    "membership.tier": {
        **_SELF_AND_ADMIN,
        "staff": "full",
        "manager": "full",
        "pos": "full",
        "marketer": "full",
        "analyst": "full",
    },
    "membership.discount_bp": {
        **_SELF_AND_ADMIN,
        "staff": "full",
        "manager": "full",
        "pos": "full",
    },
    "membership.points": {**_SELF_AND_ADMIN, "staff": "full", "manager": "full"},
    "membership.home_store_id": {**_SELF_AND_ADMIN, "staff": "full", "manager": "full"},
    "transaction": {**_SELF_AND_ADMIN, "marketer": "full", "analyst": "full"},
    "personalised": {**_SELF_AND_ADMIN, "marketer": "full"},
    "favourite_dishes": {**_SELF_AND_ADMIN, "staff": "full", "manager": "full"},
    "service_needs": {**_SELF_AND_ADMIN, "staff": "full", "manager": "full"},
    "sensitive_needs": {
        "admin": "consented",
        "member": "full",
        "staff": "consented",
        "manager": "consented",
    },
    "consents": {**_SELF_AND_ADMIN},
}

# Roles that may open a member's profile at all; POS reads only what a checkout quote
# needs (id, tier, discount) and gets that from the lookup, never a profile.
PROFILE_ROLES: Final = ("admin", "member", "staff", "manager", "marketer", "analyst")

# The consent purpose a "consented" field rests on.
_CONSENT_PURPOSE: Final = {"sensitive_needs": "sensitive_data"}


def access_for(role: str, field: str) -> str | None:
    """The access `role` has to `field`, or None when the field is not shown to it."""
    return FIELD_ACCESS.get(field, {}).get(role)


def mask_name(name: str) -> str:
    """The first character and one star per further character (张三丰 -> 张**)."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def month_day(iso_date: str) -> str:
    """`YYYY-MM-DD` -> `MM-DD` (a birthday without the year)."""
    return iso_date[5:10] if len(iso_date) >= 10 else ""


def _mask_phone(value: str) -> str:
    digits = value.replace("+86", "").replace(" ", "")
    if "*" in digits or len(digits) < 7:
        return digits  # already masked by the identifier's owner
    return f"{digits[:3]}****{digits[-4:]}"


def _value(full: Mapping[str, Any], field: str) -> Any:
    group, _, key = field.partition(".")
    if not key:
        return full.get(group)
    section = full.get(group)
    return section.get(key) if isinstance(section, Mapping) else None


def _shown(field: str, access: str, value: Any, full: Mapping[str, Any], pseudonym: str) -> Any:
    if value is None:
        return None
    if access == "pseudonym":
        return pseudonym
    if access == "month_day":
        return month_day(str(value))
    if access == "consented":
        consents = full.get("consents") or {}
        return value if consents.get(_CONSENT_PURPOSE[field]) else []
    if access == "masked":
        if field == "phone":
            return _mask_phone(str(value))
        if field == "basic.display_name":
            nickname = _value(full, "basic.nickname")
            return nickname if nickname else mask_name(str(value))
    return value


def project_profile(role: str, full: Mapping[str, Any], *, pseudonym: str) -> dict[str, Any]:
    """The profile `role` may see, from the full one: fields the role is not listed for
    are left out, the others shown at the role's access level."""
    out: dict[str, Any] = {}
    for field, by_role in FIELD_ACCESS.items():
        access = by_role.get(role)
        if access is None:
            continue
        shown = _shown(field, access, _value(full, field), full, pseudonym)
        group, _, key = field.partition(".")
        if key:
            out.setdefault(group, {})[key] = shown
        else:
            out[group] = shown
    return out
