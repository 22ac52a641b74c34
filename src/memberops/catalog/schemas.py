"""Wire shapes of the store and catalog routes (the rules check the content)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_MASTER_RECORDS_PER_REQUEST",
    "ItemCreate",
    "ItemsRequest",
    "MasterImportRead",
    "StoreCreate",
    "StoresRequest",
]

MAX_MASTER_RECORDS_PER_REQUEST = 1000


class StoreCreate(BaseModel):
    """One store; `code` identifies it (sending it again updates it)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=32, examples=["BJ001"])
    name: str = Field(max_length=120)
    city: str = Field(max_length=60)
    region: str = Field(max_length=60)
    timezone: str = Field(max_length=64, examples=["Asia/Shanghai"])
    opened_on: str | None = Field(default=None, max_length=10, examples=["2019-05-01"])


class StoresRequest(BaseModel):
    """Up to 1000 stores, validated together and stored all or nothing."""

    model_config = ConfigDict(extra="forbid")

    stores: list[StoreCreate] = Field(min_length=1, max_length=MAX_MASTER_RECORDS_PER_REQUEST)


class ItemCreate(BaseModel):
    """One dish or product; `sku` identifies it (sending it again updates it)."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(max_length=64, examples=["BR001"])
    name: str = Field(max_length=160)
    name_local: str | None = Field(default=None, max_length=160)
    category: str = Field(max_length=40)
    price_cents: int = Field(ge=0, le=100_000_000, strict=True)
    tags: list[str] = Field(default_factory=list, max_length=20)
    active: bool = True


class ItemsRequest(BaseModel):
    """Up to 1000 catalog items, validated together and stored all or nothing."""

    model_config = ConfigDict(extra="forbid")

    items: list[ItemCreate] = Field(min_length=1, max_length=MAX_MASTER_RECORDS_PER_REQUEST)


class MasterImportRead(BaseModel):
    """Counts of a stores or catalog import."""

    records: int
    created: int
    updated: int
    unchanged: int
