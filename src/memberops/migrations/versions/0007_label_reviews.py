"""label reviews: notes the guard holds for a manager

Revision ID: 0007
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import memberops.db

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "label_reviews",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("label_id", sa.String(length=26), nullable=False),
        sa.Column("member_id", sa.String(length=26), nullable=False),
        sa.Column("store_code", sa.String(length=32), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", memberops.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("decided_at", memberops.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decision_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_label_reviews_label_id_labels")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_label_reviews_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_reviews")),
    )
    with op.batch_alter_table("label_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_label_reviews_label_id"), ["label_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_label_reviews_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_label_reviews_store_code"), ["store_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_label_reviews_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("label_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_label_reviews_store_code"))
        batch_op.drop_index(batch_op.f("ix_label_reviews_member_id"))
        batch_op.drop_index(batch_op.f("ix_label_reviews_label_id"))
    op.drop_table("label_reviews")
