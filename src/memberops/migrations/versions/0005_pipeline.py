"""member 360 pipeline serving tables

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import memberops.db

revision = "0005"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.String(length=26)


def _ts() -> memberops.db.UtcDateTime:
    return memberops.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "member_metrics",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("home_store_id", _ID, nullable=True),
        sa.Column("home_store_source", sa.String(length=8), nullable=False),
        sa.Column("spend_cents", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("first_visit_at", _ts(), nullable=False),
        sa.Column("last_visit_at", _ts(), nullable=False),
        sa.Column("spend_per_person_cents", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_metrics_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_metrics")),
    )
    op.create_index("ix_member_metrics_spend", "member_metrics", ["spend_cents"])
    op.create_index(
        "ix_member_metrics_store_spend", "member_metrics", ["home_store_id", "spend_cents"]
    )
    op.create_table(
        "member_taste_snapshots",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("spend_cents", sa.BigInteger(), nullable=False),
        sa.Column("top_dishes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_taste_snapshots_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("member_id", "quarter", name=op.f("pk_member_taste_snapshots")),
    )
    op.create_table(
        "member_last_visits",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("meal_type", sa.String(length=16), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_last_visits_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_last_visits")),
    )
    op.create_table(
        "store_profiles",
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.Column("spend_cents", sa.BigInteger(), nullable=False),
        sa.Column("visits_per_member", sa.Float(), nullable=False),
        sa.Column("visits_per_member_month", sa.Float(), nullable=False),
        sa.Column("spend_p25_cents", sa.Float(), nullable=False),
        sa.Column("spend_p50_cents", sa.Float(), nullable=False),
        sa.Column("spend_p75_cents", sa.Float(), nullable=False),
        sa.Column("premium_members", sa.Integer(), nullable=False),
        sa.Column("value_members", sa.Integer(), nullable=False),
        sa.Column("premium_share", sa.Float(), nullable=False),
        sa.Column("value_share", sa.Float(), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_store_profiles")),
    )
    op.create_table(
        "pipeline_watermarks",
        sa.Column("feature_group", sa.String(length=32), nullable=False),
        sa.Column("watermark", _ts(), nullable=True),
        sa.Column("as_of", _ts(), nullable=False),
        sa.Column("engine", sa.String(length=12), nullable=False),
        sa.Column("members_refreshed", sa.Integer(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("feature_group", name=op.f("pk_pipeline_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("pipeline_watermarks")
    op.drop_table("store_profiles")
    op.drop_table("member_last_visits")
    op.drop_table("member_taste_snapshots")
    op.drop_index("ix_member_metrics_store_spend", table_name="member_metrics")
    op.drop_index("ix_member_metrics_spend", table_name="member_metrics")
    op.drop_table("member_metrics")
