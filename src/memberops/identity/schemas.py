"""Wire shapes of the identity routes."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["UnmergeRead"]


class UnmergeRead(BaseModel):
    merge_id: str
    status: str
    survivor_id: str
    absorbed_id: str
    undone_at: str | None
