"""groups store the resources their experiments ask, experiments the GPUs they were placed on
and workers the GPUs they declared

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = (("experiment_groups", "resources"), ("experiments", "gpus"), ("workers", "gpus"))


def upgrade():
    # Plain nullable columns: SQLite adds them in place (batch mode would copy the tables and
    # drop the counters' triggers, 0009). Groups made before keep None: they asked no GPUs.
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.Text(), nullable=True))


def downgrade():
    for table, column in reversed(COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
