"""early-stopping policies: where each experiment stood at each report of a watched metric,
and the message a requested stop ends with

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "ix_metric_standings_experiment"


def upgrade():
    op.create_table(
        "metric_standings",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(128), nullable=False),
        sa.Column("report", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("lowest", sa.Float(), nullable=False),
        sa.Column("highest", sa.Float(), nullable=False),
        sa.Column("average", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_metric_standings_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "metric", "report", "experiment_id", name="pk_metric_standings"
        ),
    )
    op.create_index(INDEX, "metric_standings", ["experiment_id", "metric", "report"])
    # A plain ADD COLUMN on SQLite too: batch mode would copy the table and drop the counters'
    # triggers (0009) on it.
    op.add_column("experiments", sa.Column("stop_message", sa.Text(), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE experiments DROP COLUMN stop_message")
    else:
        op.drop_column("experiments", "stop_message")
    op.drop_index(INDEX, table_name="metric_standings")
    op.drop_table("metric_standings")
