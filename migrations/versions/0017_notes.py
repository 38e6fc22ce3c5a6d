"""groups and experiments have Markdown notes, versioned

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # A new table only: no existing table is altered, so SQLite needs no special path.
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(group_id IS NULL) <> (experiment_id IS NULL)", name="ck_notes_one_target"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experiment_groups.id"],
            name="fk_notes_group_id_experiment_groups",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_notes_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name="fk_notes_updated_by_id_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
        sa.UniqueConstraint("group_id", name="uq_notes_group_id"),
        sa.UniqueConstraint("experiment_id", name="uq_notes_experiment_id"),
    )
    op.create_index("ix_notes_updated_by_id", "notes", ["updated_by_id"])


def downgrade():
    op.drop_index("ix_notes_updated_by_id", table_name="notes")
    op.drop_table("notes")
