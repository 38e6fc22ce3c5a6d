"""Reading the counters the database keeps per group (migration 0009's triggers): experiments
by status, and a version that changes with every change to the group's experiments.

A read is one index range per group, whatever the number of experiments.
"""

from collections import defaultdict

from sqlalchemy import JSON, bindparam, func, select, union_all

from dashboard.extensions import db
from dashboard.models import GroupStatusChange, GroupStatusCount, GroupVersion
from dashboard.models.statuses import RUNNING_EXPERIMENT_STATUSES


def _status_rows(matches):
    """(group_id, status, n) rows of the counters and of this transaction's pending changes,
    for the groups whose id column satisfies matches(column) (correlated to an outer query's
    group when matches names one)."""
    kept = (
        select(
            GroupStatusCount.group_id, GroupStatusCount.status, GroupStatusCount.count.label("n")
        )
        .where(matches(GroupStatusCount.group_id))
        .correlate_except(GroupStatusCount)
    )
    pending = (
        select(GroupStatusChange.group_id, GroupStatusChange.status, GroupStatusChange.delta)
        .where(matches(GroupStatusChange.group_id), GroupStatusChange.status.is_not(None))
        .correlate_except(GroupStatusChange)
    )
    return union_all(kept, pending).subquery()


def _counts_statement():
    both = _status_rows(lambda column: column.in_(bindparam("group_ids", expanding=True)))
    return (
        select(both.c.group_id, both.c.status, func.sum(both.c.n))
        .group_by(both.c.group_id, both.c.status)
        .having(func.sum(both.c.n) > 0)
    )


# Built once (building it cost more than running it): GET group and every poll read it.
_COUNTS = _counts_statement()
_VERSION = select(GroupVersion.version).where(GroupVersion.group_id == bindparam("group_id"))
# JSON aggregates by database: {status: count} as one value of a row.
_AS_OBJECT = {"sqlite": func.json_group_object}


def counts_subquery(group_id_column, dialect_name):
    """{status: count} of the group of a column, as a scalar subquery giving one JSON object
    (NULL before the first experiment); for reading the counts within another query."""
    both = _status_rows(lambda column: column == group_id_column)
    summed = (
        select(both.c.status, func.sum(both.c.n).label("n"))
        .group_by(both.c.status)
        .having(func.sum(both.c.n) > 0)
        .subquery()
    )
    as_object = _AS_OBJECT.get(dialect_name, func.json_object_agg)
    return select(as_object(summed.c.status, summed.c.n, type_=JSON)).scalar_subquery()


def experiment_counts_of(group_ids):
    """{group id: {status: count}} for many groups (statuses with no experiment left out).

    Inside a writing transaction on PostgreSQL, its own changes are not in the counters until
    it commits: they are read beside them (the table holds no other transaction's rows).
    """
    counts = defaultdict(dict)
    if group_ids:
        rows = db.session.execute(_COUNTS, {"group_ids": list(group_ids)}).all()
        for group_id, status, count in rows:
            counts[group_id][status] = int(count)
    return counts


def experiment_counts(group_id):
    """{status: count} of the group's experiments."""
    return experiment_counts_of([group_id]).get(group_id, {})


_COMMITTED_TOTAL = select(func.coalesce(func.sum(GroupStatusCount.count), 0)).where(
    GroupStatusCount.group_id == bindparam("group_id")
)


def committed_total(group_id):
    """How many experiments the group has as committed: the counters alone, one index range,
    without this transaction's pending changes (for readers that wrote nothing; on a
    PostgreSQL that has not vacuumed yet, the pending changes' table can hold many dead rows)."""
    return db.session.scalar(_COMMITTED_TOTAL, {"group_id": group_id})


def num_running(group_id):
    """How many experiments of the group are scheduled, starting or running."""
    counts = experiment_counts(group_id)
    return sum(counts.get(status, 0) for status in RUNNING_EXPERIMENT_STATUSES)


def version_subquery(group_id_column):
    """The version as a scalar subquery correlated to a group id column (0 is NULL here)."""
    return (
        select(GroupVersion.version)
        .where(GroupVersion.group_id == group_id_column)
        .scalar_subquery()
    )


def experiments_version(group_id):
    """The version of the group's experiments (0 before the first one)."""
    return db.session.scalar(_VERSION, {"group_id": group_id}) or 0
