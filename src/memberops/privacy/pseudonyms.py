"""Pseudonymous member ids for analysts and marketers.

A keyed hash (the blind-index key) of the member id: stable across reports, so a list can
be joined with another export, but not reversible without the key and not guessable from
the id. Admins see real ids; other analytics readers get these.
"""

from __future__ import annotations

from memberops.privacy.crypto import KeyRing

__all__ = ["pseudonymous_id"]

_KIND = "member-pseudonym"


def pseudonymous_id(keyring: KeyRing, member_id: str) -> str:
    """`p_` and 20 hex digits of HMAC-SHA256(index key, member id)."""
    return "p_" + keyring.blind_index(_KIND, member_id)[:20]
