"""tensorboard jobs keep the secret path prefix only the dashboard's proxy knows

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Jobs running at upgrade time keep NULL: the dashboard stops them (they are reachable by
    # anyone on the machine) and asks for a restart.
    with op.batch_alter_table("tensorboard_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("path_secret", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("tensorboard_jobs", schema=None) as batch_op:
        batch_op.drop_column("path_secret")
