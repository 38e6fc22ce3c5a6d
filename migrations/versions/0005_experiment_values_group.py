"""experiment values carry their group, indexed for group-scoped filters and sorts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 06:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("experiment_values", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE experiment_values SET group_id = (SELECT experiments.group_id FROM experiments"
        " WHERE experiments.id = experiment_values.experiment_id)"
    )
    with op.batch_alter_table("experiment_values", schema=None) as batch_op:
        batch_op.alter_column("group_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_experiment_values_group_id_experiment_groups"), "experiment_groups",
            ["group_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index(
            "ix_experiment_values_group",
            ["group_id", "kind", "name", "num_value", "text_value", "experiment_id"], unique=False)


def downgrade():
    with op.batch_alter_table("experiment_values", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_values_group")
        batch_op.drop_constraint(
            batch_op.f("fk_experiment_values_group_id_experiment_groups"), type_="foreignkey")
        batch_op.drop_column("group_id")
