"""each group's experiments counted by status, and a version of its experiments, kept by the
database in the same transaction as every change to them

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The counters have no foreign key to their group (a trigger on groups deletes them): a
# commit adding to a counter would otherwise lock the group's row for the key check, and wait
# on a transaction deleting the group, which waits on the experiment rows the first one holds.

# SQLite: row triggers. A decrement only updates (a group being deleted may have lost its rows
# already); an increment inserts the row the first time.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER experiments_tally_insert AFTER INSERT ON experiments BEGIN
        INSERT INTO group_status_counts (group_id, status, count)
            VALUES (NEW.group_id, NEW.status, 1)
            ON CONFLICT (group_id, status) DO UPDATE SET count = count + 1;
        INSERT INTO group_versions (group_id, version) VALUES (NEW.group_id, 1)
            ON CONFLICT (group_id) DO UPDATE SET version = version + 1;
    END""",
    """CREATE TRIGGER experiments_tally_status AFTER UPDATE OF status, group_id ON experiments
    WHEN OLD.status IS NOT NEW.status OR OLD.group_id IS NOT NEW.group_id BEGIN
        UPDATE group_status_counts SET count = count - 1
            WHERE group_id = OLD.group_id AND status = OLD.status;
        INSERT INTO group_status_counts (group_id, status, count)
            VALUES (NEW.group_id, NEW.status, 1)
            ON CONFLICT (group_id, status) DO UPDATE SET count = count + 1;
    END""",
    """CREATE TRIGGER experiment_groups_tally_delete AFTER DELETE ON experiment_groups BEGIN
        DELETE FROM group_status_counts WHERE group_id = OLD.id;
        DELETE FROM group_versions WHERE group_id = OLD.id;
    END""",
    """CREATE TRIGGER experiments_tally_version AFTER UPDATE ON experiments BEGIN
        UPDATE group_versions SET version = version + 1 WHERE group_id = NEW.group_id;
    END""",
    """CREATE TRIGGER experiments_tally_delete AFTER DELETE ON experiments BEGIN
        UPDATE group_status_counts SET count = count - 1
            WHERE group_id = OLD.group_id AND status = OLD.status;
        UPDATE group_versions SET version = version + 1 WHERE group_id = OLD.group_id;
    END""",
]

# PostgreSQL: statement triggers over transition tables note each statement's changes (one row
# per group and status, or a bare version mark) in group_status_changes; a deferred trigger adds
# them to the counters when the transaction commits, in (group, status) order. So the counters'
# row locks are taken last, all in one order, and a transaction never waits for them while it
# holds an experiment's lock another transaction wants: no deadlock with the row locks of
# experiments (claims, stops and reports lock those in any order). Until the commit, a
# transaction reads its own changes beside the counters (services.group.tallies).
POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION experiments_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO group_status_changes (group_id, status, delta)
            SELECT group_id, status, count(*) FROM new_rows GROUP BY group_id, status;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION experiments_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO group_status_changes (group_id, status, delta)
            SELECT group_id, status, sum(delta) FROM (
                SELECT n.group_id, n.status, 1 AS delta FROM new_rows n JOIN old_rows o USING (id)
                    WHERE o.status IS DISTINCT FROM n.status OR o.group_id <> n.group_id
                UNION ALL
                SELECT o.group_id, o.status, -1 FROM new_rows n JOIN old_rows o USING (id)
                    WHERE o.status IS DISTINCT FROM n.status OR o.group_id <> n.group_id
                UNION ALL
                SELECT DISTINCT group_id, NULL, 0 FROM new_rows
            ) AS moved GROUP BY group_id, status;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION experiments_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO group_status_changes (group_id, status, delta)
            SELECT group_id, status, -count(*) FROM old_rows GROUP BY group_id, status;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION group_status_changes_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Only this transaction's rows are visible here: every other one that committed has
        -- applied and deleted its own. A deleted group's changes are dropped with it.
        WITH taken AS (
            DELETE FROM group_status_changes RETURNING group_id, status, delta
        ), live AS (
            SELECT t.group_id, t.status, t.delta FROM taken t
            JOIN experiment_groups g ON g.id = t.group_id
        ), counted AS (
            INSERT INTO group_status_counts (group_id, status, count)
                SELECT group_id, status, sum(delta) FROM live WHERE status IS NOT NULL
                GROUP BY group_id, status HAVING sum(delta) <> 0 ORDER BY group_id, status
                ON CONFLICT (group_id, status)
                DO UPDATE SET count = group_status_counts.count + EXCLUDED.count
        )
        INSERT INTO group_versions (group_id, version)
            SELECT DISTINCT group_id, 1 FROM live ORDER BY group_id
            ON CONFLICT (group_id) DO UPDATE SET version = group_versions.version + 1;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION experiment_groups_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM group_status_counts WHERE group_id IN (SELECT id FROM old_rows);
        DELETE FROM group_versions WHERE group_id IN (SELECT id FROM old_rows);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER experiment_groups_tally_delete AFTER DELETE ON experiment_groups
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION experiment_groups_tally_delete()""",
    """CREATE TRIGGER experiments_tally_insert AFTER INSERT ON experiments
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION experiments_tally_insert()""",
    """CREATE TRIGGER experiments_tally_update AFTER UPDATE ON experiments
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION experiments_tally_update()""",
    """CREATE TRIGGER experiments_tally_delete AFTER DELETE ON experiments
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION experiments_tally_delete()""",
    """CREATE CONSTRAINT TRIGGER group_status_changes_apply AFTER INSERT ON group_status_changes
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION group_status_changes_apply()""",
]

BACKFILL = [
    """INSERT INTO group_status_counts (group_id, status, count)
        SELECT group_id, status, count(*) FROM experiments GROUP BY group_id, status""",
    """INSERT INTO group_versions (group_id, version) SELECT id, 1 FROM experiment_groups""",
]


def upgrade():
    op.create_table(
        "group_status_counts",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "status", name=op.f("pk_group_status_counts")),
    )
    op.create_table(
        "group_versions",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_group_versions")),
    )
    # Changes noted but not yet added to the counters: only PostgreSQL's triggers write here,
    # and only until their transaction commits.
    op.create_table(
        "group_status_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_status_changes")),
    )
    with op.batch_alter_table("group_status_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_status_changes_group_id"), ["group_id"],
                              unique=False)
    for statement in BACKFILL:
        op.execute(statement)
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER experiments_tally_{name} ON experiments")
            op.execute(f"DROP FUNCTION experiments_tally_{name}()")
        op.execute("DROP TRIGGER group_status_changes_apply ON group_status_changes")
        op.execute("DROP FUNCTION group_status_changes_apply()")
        op.execute("DROP TRIGGER experiment_groups_tally_delete ON experiment_groups")
        op.execute("DROP FUNCTION experiment_groups_tally_delete()")
    else:
        for name in ("insert", "status", "version", "delete"):
            op.execute(f"DROP TRIGGER experiments_tally_{name}")
        op.execute("DROP TRIGGER experiment_groups_tally_delete")
    op.drop_table("group_status_changes")
    op.drop_table("group_versions")
    op.drop_table("group_status_counts")
