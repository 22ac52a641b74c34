"""segments: definitions, versions, materialisations and membership history

Revision ID: 0012
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import memberops.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=400), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", memberops.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", memberops.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("materialised_at", memberops.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "segment_versions",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("segment_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=400), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("changed_at", memberops.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_versions_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_versions")),
        sa.UniqueConstraint(
            "segment_id", "version", name=op.f("uq_segment_versions_segment_id_version")
        ),
    )
    op.create_index(
        op.f("ix_segment_versions_segment_id"), "segment_versions", ["segment_id"], unique=False
    )
    op.create_table(
        "segment_runs",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("segment_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", memberops.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_runs_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_runs")),
    )
    op.create_index(
        op.f("ix_segment_runs_segment_id"), "segment_runs", ["segment_id"], unique=False
    )
    op.create_table(
        "segment_memberships",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("segment_id", sa.String(length=26), nullable=False),
        sa.Column("member_id", sa.String(length=26), nullable=False),
        sa.Column("entered_at", memberops.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("left_at", memberops.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_segment_memberships_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_memberships_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_memberships")),
    )
    op.create_index(
        "uq_segment_memberships_open",
        "segment_memberships",
        ["segment_id", "member_id"],
        unique=True,
        sqlite_where=sa.text("left_at IS NULL"),
        postgresql_where=sa.text("left_at IS NULL"),
    )
    op.create_index(
        "ix_segment_memberships_member", "segment_memberships", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_segment_memberships_member", table_name="segment_memberships")
    op.drop_index("uq_segment_memberships_open", table_name="segment_memberships")
    op.drop_table("segment_memberships")
    op.drop_index(op.f("ix_segment_runs_segment_id"), table_name="segment_runs")
    op.drop_table("segment_runs")
    op.drop_index(op.f("ix_segment_versions_segment_id"), table_name="segment_versions")
    op.drop_table("segment_versions")
    op.drop_table("segments")
