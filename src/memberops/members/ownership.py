"""Which tables hang off a member, discovered from column metadata.

A column declared with `info={"member_owned": ...}` belongs to a member:
  "move"    - rows follow merges and unmerges, appear in exports, are pseudonymised on erasure
  "derived" - rows are recomputed from other data (profiles, consent state); merges drop them
  "custom"  - the owning capability moves them itself (identity links)
Later capabilities (points, coupons, labels) declare their columns the same way and
follow merges with no change to the merge code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table

from memberops.db import Base

__all__ = ["OwnedTable", "member_owned_tables"]


@dataclass(frozen=True)
class OwnedTable:
    table: Table
    column: Column[str]
    mode: str

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def primary_key(self) -> list[Column[object]]:
        return list(self.table.primary_key.columns)


def member_owned_tables(mode: str | None = None) -> list[OwnedTable]:
    """Every (table, member column) declared member-owned, optionally of one mode."""
    found: list[OwnedTable] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            owned = column.info.get("member_owned")
            if owned and (mode is None or owned == mode):
                found.append(OwnedTable(table=table, column=column, mode=str(owned)))
    return found
