"""The members capability's merge handler: the stored points balance column.

Until the loyalty ledger owns points, the balance on `members.points_balance` moves here
and nowhere else: a merge adds the absorbed member's balance to the survivor, an unmerge
takes exactly that back (the absorbed member's own balance is kept untouched).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from memberops.identity.hooks import MergeEvent, UnmergeEvent
from memberops.members.models import Member

__all__ = ["PointsBalanceHandler"]


class PointsBalanceHandler:
    """Moves `members.points_balance` on merge and back on unmerge."""

    name = "members.points_balance"

    def on_merge(self, session: Session, event: MergeEvent) -> None:
        survivor = session.get(Member, event.survivor_id)
        absorbed = session.get(Member, event.absorbed_id)
        assert survivor is not None and absorbed is not None
        survivor.points_balance = (survivor.points_balance or 0) + (absorbed.points_balance or 0)

    def on_unmerge(self, session: Session, event: UnmergeEvent) -> None:
        survivor = session.get(Member, event.survivor_id)
        absorbed = session.get(Member, event.absorbed_id)
        assert survivor is not None and absorbed is not None
        survivor.points_balance = (survivor.points_balance or 0) - (absorbed.points_balance or 0)
