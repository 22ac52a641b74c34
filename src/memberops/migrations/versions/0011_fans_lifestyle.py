"""fan levels and lifestyle scores serving tables

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import memberops.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.String(length=26)


def _ts() -> memberops.db.UtcDateTime:
    return memberops.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fan_levels",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("visits_window", sa.Integer(), nullable=False),
        sa.Column("repurchase_rate", sa.Float(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("referred_members", sa.Integer(), nullable=False),
        sa.Column("referred_revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("communication_score", sa.Float(), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_fan_levels_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_fan_levels")),
    )
    op.create_index("ix_fan_levels_level", "fan_levels", ["level"])
    op.create_index("ix_fan_levels_communication_score", "fan_levels", ["communication_score"])
    op.create_table(
        "lifestyle_scores",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("trait", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("has_trait", sa.Boolean(), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_lifestyle_scores_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", "trait", name=op.f("pk_lifestyle_scores")),
    )
    op.create_index("ix_lifestyle_scores_trait", "lifestyle_scores", ["trait", "has_trait"])


def downgrade() -> None:
    op.drop_index("ix_lifestyle_scores_trait", table_name="lifestyle_scores")
    op.drop_table("lifestyle_scores")
    op.drop_index("ix_fan_levels_communication_score", table_name="fan_levels")
    op.drop_index("ix_fan_levels_level", table_name="fan_levels")
    op.drop_table("fan_levels")
