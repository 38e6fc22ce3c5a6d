"""experiments are found by when they last changed, within their group: the analysis plots
bring what they keep of a group up to date from the experiments changed since they last looked

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEX = "ix_experiments_group_updated_at"


def upgrade():
    # A plain CREATE INDEX (no batch): SQLite's batch mode could copy the table and drop its
    # triggers (migration 0009's counters).
    op.create_index(INDEX, "experiments", ["group_id", "updated_at"], unique=False)


def downgrade():
    op.drop_index(INDEX, table_name="experiments")
