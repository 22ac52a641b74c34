"""Wire shapes for campaigns and coupons. Request bodies forbid unknown fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

__all__ = [
    "CampaignIn",
    "CouponDefinitionIn",
    "CouponIssueIn",
    "CouponRedeemIn",
]

_CODE = r"^[A-Za-z0-9_-]{1,40}$"
_ID = r"^[0-9a-f]{26}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def document(self) -> dict[str, Any]:
        """The body as a definition document (absent fields left out)."""
        return self.model_dump(exclude_none=True)


class CampaignIn(_In):
    """A campaign: times without an offset are the chain's local time; a date alone
    means local midnight starting it (`valid_from`) or ending it (`valid_to`)."""

    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1, max_length=120)
    valid_from: str = Field(min_length=10, max_length=40)
    valid_to: str = Field(min_length=10, max_length=40)
    stores: list[str] = Field(default_factory=list, max_length=500)
    tiers: list[str] = Field(default_factory=list, max_length=20)
    days: list[str] = Field(default_factory=list, max_length=7)
    min_spend_cents: StrictInt | None = Field(default=None, ge=0)
    categories: list[str] = Field(default_factory=list, max_length=100)
    skus: list[str] = Field(default_factory=list, max_length=1000)
    multiplier_pct: StrictInt | None = None
    fixed_points: StrictInt | None = None
    member_cap_points: StrictInt | None = None


class CouponDefinitionIn(_In):
    """A coupon definition: `kind` percent (value in basis points) or fixed (cents)."""

    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(pattern=r"^(percent|fixed)$")
    value: StrictInt
    valid_from: str = Field(min_length=10, max_length=40)
    valid_to: str = Field(min_length=10, max_length=40)
    min_spend_cents: StrictInt | None = Field(default=None, ge=0)
    categories: list[str] = Field(default_factory=list, max_length=100)
    skus: list[str] = Field(default_factory=list, max_length=1000)
    per_member_limit: StrictInt | None = None


class CouponIssueIn(_In):
    """Issue to listed members and/or to every member of some tiers."""

    member_ids: list[str] = Field(default_factory=list, max_length=100_000)
    tiers: list[str] = Field(default_factory=list, max_length=20)


class CouponRedeemIn(_In):
    """Consume a coupon for a business document (`source_system` + `reference`)."""

    code: str = Field(min_length=1, max_length=40)
    member_id: str = Field(pattern=_ID)
    source_system: str = Field(min_length=1, max_length=40)
    reference: str = Field(min_length=1, max_length=120)
    amount_cents: StrictInt | None = Field(default=None, ge=0)
