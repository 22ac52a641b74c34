"""Pure privacy rules: the consent purposes a member can decide on.

No I/O here, so order parsing and wire shapes can name the purposes without reaching the
consent store.
"""

from __future__ import annotations

__all__ = ["PURPOSES", "SEPARATE_CONSENT_PURPOSES"]

PURPOSES = (
    "marketing",
    "personalised_marketing",
    "profiling",
    "sensitive_data",
    "partner_sharing",
)

# Purposes that need their own, separate consent (PIPL Art. 23 and 29).
SEPARATE_CONSENT_PURPOSES = frozenset({"sensitive_data", "partner_sharing"})
