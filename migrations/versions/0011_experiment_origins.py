"""experiments know the experiment they continue (an asha promotion, a clone) and how

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "ix_experiments_original_experiment_id"


def upgrade():
    # SQLite adds a column with its REFERENCES clause in place; alembic's batch mode would copy
    # the table instead and drop the counters' triggers (0009) on it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE experiments ADD COLUMN original_experiment_id INTEGER CONSTRAINT "
            "fk_experiments_original_experiment_id_experiments "
            "REFERENCES experiments (id) ON DELETE SET NULL"
        )
    else:
        op.add_column(
            "experiments", sa.Column("original_experiment_id", sa.Integer(), nullable=True)
        )
        op.create_foreign_key(
            "fk_experiments_original_experiment_id_experiments",
            "experiments",
            "experiments",
            ["original_experiment_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column("experiments", sa.Column("cloning_strategy", sa.String(8), nullable=True))
    # Deleting an experiment looks up those that name it: without the index, deleting a group
    # of n experiments would read the table n times. Partial: most experiments name none.
    op.create_index(
        INDEX,
        "experiments",
        ["original_experiment_id"],
        postgresql_where=sa.text("original_experiment_id IS NOT NULL"),
        sqlite_where=sa.text("original_experiment_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index(INDEX, table_name="experiments")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE experiments DROP COLUMN cloning_strategy")
        op.execute("ALTER TABLE experiments DROP COLUMN original_experiment_id")
    else:
        op.drop_constraint(
            "fk_experiments_original_experiment_id_experiments", "experiments", type_="foreignkey"
        )
        op.drop_column("experiments", "cloning_strategy")
        op.drop_column("experiments", "original_experiment_id")
