"""groups know the group they were cloned from and how many experiments they were extended by

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite adds a column with its REFERENCES clause in place (as 0011 does for experiments).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE experiment_groups ADD COLUMN cloned_from_id INTEGER CONSTRAINT "
            "fk_experiment_groups_cloned_from_id_experiment_groups "
            "REFERENCES experiment_groups (id) ON DELETE SET NULL"
        )
    else:
        op.add_column(
            "experiment_groups", sa.Column("cloned_from_id", sa.Integer(), nullable=True)
        )
        op.create_foreign_key(
            "fk_experiment_groups_cloned_from_id_experiment_groups",
            "experiment_groups",
            "experiment_groups",
            ["cloned_from_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column(
        "experiment_groups",
        sa.Column("extended_by", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE experiment_groups DROP COLUMN extended_by")
        op.execute("ALTER TABLE experiment_groups DROP COLUMN cloned_from_id")
    else:
        op.drop_constraint(
            "fk_experiment_groups_cloned_from_id_experiment_groups",
            "experiment_groups",
            type_="foreignkey",
        )
        op.drop_column("experiment_groups", "extended_by")
        op.drop_column("experiment_groups", "cloned_from_id")
