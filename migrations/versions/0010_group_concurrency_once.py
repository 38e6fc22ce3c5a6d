"""a group's concurrency is stored once, in its column: the copy inside hptuning goes

Revision ID: 0010
Revises: 0009
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

GROUPS = sa.table(
    "experiment_groups",
    sa.column("id", sa.Integer),
    sa.column("hptuning", sa.Text),
    sa.column("concurrency", sa.Integer),
)


def _dumps(value):
    # As the app's JSONText writes it.
    return json.dumps(value, separators=(",", ":"))


def _rewrite(change):
    """Write change(hptuning, concurrency) over each group's hptuning (None: leave it)."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(GROUPS.c.id, GROUPS.c.hptuning, GROUPS.c.concurrency))
    for group_id, text, concurrency in rows.all():
        changed = None if text is None else change(json.loads(text), concurrency)
        if changed is not None:
            connection.execute(
                GROUPS.update().where(GROUPS.c.id == group_id).values(hptuning=_dumps(changed))
            )


def _without_copy(hptuning, concurrency):
    if "concurrency" not in hptuning:
        return None
    return {key: value for key, value in hptuning.items() if key != "concurrency"}


def _with_copy(hptuning, concurrency):
    # The copy goes back first, where the spec parser puts it.
    return {"concurrency": concurrency, **hptuning}


def upgrade():
    _rewrite(_without_copy)


def downgrade():
    _rewrite(_with_copy)
