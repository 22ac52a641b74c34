"""The members capability's extension points.

Profile sections: a capability that holds something a profile read shows (identity's
identifiers today; tiers, points and labels later) registers a section, and
`read_profile` shows it without knowing where it comes from. Registration happens in the
assembly module (`memberops.capabilities`).

The points balance and tier on the member row are a cache the loyalty ledger writes
(`members.service.set_membership_cache`); merges move points by loyalty's postings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.privacy.crypto import KeyRing

__all__ = [
    "ComputedGroups",
    "ProfileSection",
    "clear_profile_sections",
    "computed_groups",
    "profile_sections",
    "register_computed_groups",
    "register_profile_section",
]

# (session, keyring, member id, reading actor) -> the section's value in the profile.
ProfileSection = Callable[[Session, KeyRing, str, Actor], Any]

_sections: dict[str, ProfileSection] = {}


def register_profile_section(name: str, section: ProfileSection) -> None:
    """Show `section` under `name` in every profile read (the first registration wins)."""
    _sections.setdefault(name, section)


def profile_sections() -> dict[str, ProfileSection]:
    """Registered sections, in registration order."""
    return dict(_sections)


# (session, member id) -> {"transaction": ..., "personalised": ...}: the behaviour groups
# the 360 pipeline computes. Members shows them without importing the pipeline.
ComputedGroups = Callable[[Session, str], dict[str, Any]]

_computed: list[ComputedGroups] = []


def register_computed_groups(provider: ComputedGroups) -> None:
    """Read the computed profile groups through `provider` (the first registration wins)."""
    if not _computed:
        _computed.append(provider)


def computed_groups(session: Session, member_id: str) -> dict[str, Any]:
    """The transaction and personalised groups of a member (None before any computation)."""
    if not _computed:
        return {"transaction": None, "personalised": None}
    return _computed[0](session, member_id)


def clear_profile_sections() -> None:
    """Forget every section (tests that assemble their own set)."""
    _sections.clear()
