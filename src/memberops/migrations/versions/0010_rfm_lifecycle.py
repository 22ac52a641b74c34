"""analytics serving tables: RFM scores, revenue concentration, lifecycle

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import memberops.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.String(length=26)


def _ts() -> memberops.db.UtcDateTime:
    return memberops.db.UtcDateTime(timezone=True)


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["member_id"], ["members.id"], name=op.f(f"fk_{table}_member_id_members")
    )


def upgrade() -> None:
    op.create_table(
        "rfm_scores",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("r", sa.Integer(), nullable=False),
        sa.Column("f", sa.Integer(), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=24), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("spend_cents", sa.BigInteger(), nullable=False),
        sa.Column("bins", sa.Integer(), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        _member_fk("rfm_scores"),
        sa.PrimaryKeyConstraint("member_id", "scope", name=op.f("pk_rfm_scores")),
    )
    op.create_index("ix_rfm_scores_scope_segment", "rfm_scores", ["scope", "segment"])
    op.create_index("ix_rfm_scores_scope_rf", "rfm_scores", ["scope", "r", "f"])
    op.create_table(
        "concentration_summaries",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("gini", sa.Float(), nullable=False),
        sa.Column("top20_share", sa.Float(), nullable=False),
        sa.Column("curve", sa.JSON(), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_concentration_summaries")),
    )
    op.create_table(
        "concentration_members",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("spend_cents", sa.BigInteger(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        _member_fk("concentration_members"),
        sa.PrimaryKeyConstraint("scope", "member_id", name=op.f("pk_concentration_members")),
    )
    op.create_index(
        "ix_concentration_members_scope_rank", "concentration_members", ["scope", "rank"]
    )
    op.create_table(
        "lifecycle_states",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        _member_fk("lifecycle_states"),
        sa.PrimaryKeyConstraint("member_id", "month", name=op.f("pk_lifecycle_states")),
    )
    op.create_index("ix_lifecycle_states_month_state", "lifecycle_states", ["month", "state"])
    op.create_table(
        "lifecycle_flows",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("month", "from_state", "to_state", name=op.f("pk_lifecycle_flows")),
    )
    op.create_table(
        "lifecycle_cohorts",
        sa.Column("cohort", sa.String(length=7), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("cohort_size", sa.Integer(), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("cohort", "k", name=op.f("pk_lifecycle_cohorts")),
    )


def downgrade() -> None:
    op.drop_table("lifecycle_cohorts")
    op.drop_table("lifecycle_flows")
    op.drop_index("ix_lifecycle_states_month_state", table_name="lifecycle_states")
    op.drop_table("lifecycle_states")
    op.drop_index("ix_concentration_members_scope_rank", table_name="concentration_members")
    op.drop_table("concentration_members")
    op.drop_table("concentration_summaries")
    op.drop_index("ix_rfm_scores_scope_rf", table_name="rfm_scores")
    op.drop_index("ix_rfm_scores_scope_segment", table_name="rfm_scores")
    op.drop_table("rfm_scores")
