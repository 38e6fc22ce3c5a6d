"""indexes for the worker's queries: unfinished groups, running experiments by worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 05:59:43.044233

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("experiment_groups", schema=None) as batch_op:
        batch_op.create_index("ix_experiment_groups_status", ["status"], unique=False)

    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_index("ix_experiments_status_worker", ["status", "worker"], unique=False)


def downgrade():
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_index("ix_experiments_status_worker")

    with op.batch_alter_table("experiment_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_groups_status")
