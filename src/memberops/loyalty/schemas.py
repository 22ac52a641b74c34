"""Loyalty wire shapes. Request bodies forbid unknown fields (OWASP API3: nobody can slip
a balance or a tier into a request)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

__all__ = [
    "PointsRead",
    "PolicyIn",
    "PolicyRead",
    "QuoteIn",
    "QuoteItemIn",
    "QuoteLineRead",
    "QuoteRead",
    "RedemptionIn",
    "RedemptionRead",
    "SimulationIn",
    "TierRead",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedemptionIn(_In):
    """Spend points at checkout; `source_system` + `redemption_id` name the document."""

    member_id: str = Field(pattern=r"^[0-9a-f]{26}$")
    points: StrictInt = Field(gt=0, le=10_000_000)
    source_system: str = Field(min_length=1, max_length=40)
    redemption_id: str = Field(min_length=1, max_length=120)


class RedemptionRead(BaseModel):
    """A stored redemption; `replayed` is true when the document was already stored."""

    id: str
    member_id: str
    points: int
    status: str
    balance: int
    replayed: bool
    lots: list[dict[str, Any]]


class QuoteItemIn(_In):
    """One basket line: a catalog SKU and a quantity (prices come from the catalog)."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(gt=0, le=1000)


class QuoteIn(_In):
    """A basket to price for a member (or for a newcomer when `member_id` is absent)."""

    member_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{26}$")
    items: list[QuoteItemIn] = Field(min_length=1, max_length=200)
    vouchers: list[str] = Field(default_factory=list, max_length=20)
    coupons: list[str] = Field(default_factory=list, max_length=20)


class QuoteLineRead(BaseModel):
    """One quote line and why it applied or not."""

    kind: str
    label: str
    amount_cents: int
    applied: bool
    reason: str


class QuoteRead(BaseModel):
    """An itemised quote; `total_cents` never exceeds `public_cents`."""

    member_id: str | None
    public_cents: int
    total_cents: int
    lines: list[QuoteLineRead]


class TierRead(BaseModel):
    """A member's tier, why, and what is needed to keep it and to reach the next."""

    model_config = ConfigDict(extra="allow")

    member_id: str
    tier: str
    name: str
    deadline: str
    why: dict[str, Any]
    to_keep: dict[str, Any] | None
    to_reach_next: dict[str, Any] | None


class PointsRead(BaseModel):
    """Balance, owed points, open lots and recent history."""

    member_id: str
    balance: int
    owed: int
    spendable: int
    lifetime_earned: int
    lots: list[dict[str, Any]]
    history: list[dict[str, Any]]
    # Which campaigns applied to the orders in `history`, and why the others did not.
    campaigns: list[dict[str, Any]] = []


class PolicyIn(_In):
    """A tier policy document (TOML)."""

    document: str = Field(min_length=1, max_length=100_000)


class PolicyRead(BaseModel):
    """A stored policy version."""

    version: int
    name: str
    status: str


class SimulationIn(_In):
    """A proposed policy to replay against the active one."""

    document: str = Field(min_length=1, max_length=100_000)
    as_of: str | None = None
