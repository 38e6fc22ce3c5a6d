"""experiments record the upload of the project's code they ran with

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEX = "ix_experiments_code_upload_id"


def upgrade():
    # SQLite adds a column with its REFERENCES clause in place (as 0011 does): batch mode would
    # copy the table and drop the counters' triggers (0009) on it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE experiments ADD COLUMN code_upload_id INTEGER CONSTRAINT "
            "fk_experiments_code_upload_id_repo_uploads "
            "REFERENCES repo_uploads (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("experiments", sa.Column("code_upload_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_experiments_code_upload_id_repo_uploads",
            "experiments",
            "repo_uploads",
            ["code_upload_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Pruning an upload looks up the experiments that name it.
    op.create_index(INDEX, "experiments", ["code_upload_id"])


def downgrade():
    op.drop_index(INDEX, table_name="experiments")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE experiments DROP COLUMN code_upload_id")
    else:
        op.drop_constraint(
            "fk_experiments_code_upload_id_repo_uploads", "experiments", type_="foreignkey"
        )
        op.drop_column("experiments", "code_upload_id")
