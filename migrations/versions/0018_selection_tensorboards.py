"""tensorboard jobs belong to a project, and a job may serve chosen experiments (a selection)
instead of a group

Revision ID: 0018
Revises: 0017
"""

import contextlib

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PROJECT_FK = "fk_tensorboard_jobs_project_id_projects"
PROJECT_INDEX = "ix_tensorboard_jobs_project_id"


@contextlib.contextmanager
def _statuses_kept():
    """SQLite changes a column's nullability by copying the table and dropping the old one; with
    foreign keys on, that drop deletes every status row of the jobs: keep them aside meanwhile.
    (tensorboard_jobs has no triggers to lose.)"""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute("CREATE TEMPORARY TABLE tensorboard_statuses_kept AS SELECT * FROM tensorboard_statuses")
    yield
    op.execute(
        "INSERT INTO tensorboard_statuses SELECT * FROM tensorboard_statuses_kept "
        "WHERE job_id IN (SELECT id FROM tensorboard_jobs) "
        "AND id NOT IN (SELECT id FROM tensorboard_statuses)"
    )
    op.execute("DROP TABLE tensorboard_statuses_kept")


def upgrade():
    op.add_column("tensorboard_jobs", sa.Column("project_id", sa.Integer(), nullable=True))
    op.add_column("tensorboard_jobs", sa.Column("experiment_ids", sa.Text(), nullable=True))
    op.execute(
        "UPDATE tensorboard_jobs SET project_id = (SELECT project_id FROM experiment_groups "
        "WHERE experiment_groups.id = tensorboard_jobs.group_id)"
    )
    with _statuses_kept(), op.batch_alter_table("tensorboard_jobs") as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("group_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            PROJECT_FK, "projects", ["project_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index(PROJECT_INDEX, ["project_id"], unique=False)


def downgrade():
    # Selections have no group to belong to: they go, with their status rows.
    op.execute(
        "DELETE FROM tensorboard_statuses WHERE job_id IN "
        "(SELECT id FROM tensorboard_jobs WHERE group_id IS NULL)"
    )
    op.execute("DELETE FROM tensorboard_jobs WHERE group_id IS NULL")
    with _statuses_kept(), op.batch_alter_table("tensorboard_jobs") as batch_op:
        batch_op.drop_index(PROJECT_INDEX)
        batch_op.drop_constraint(PROJECT_FK, type_="foreignkey")
        batch_op.alter_column("group_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("experiment_ids")
        batch_op.drop_column("project_id")
