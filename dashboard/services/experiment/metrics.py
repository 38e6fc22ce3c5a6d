"""Metrics an experiment reports: the history, its latest values, and early stopping.

Who may report: the experiment's own credentials while it is unfinished (they expire with it),
or a member and above at any time, a finished experiment included (late evaluations). Each
report is kept as an ExperimentMetric row; `last_metric` holds the latest value of each name by
report time (`created_at`, then arrival), mirrored in ExperimentValue rows of kind "metric" so
lists sort and filter by metric in SQL.

A report, or a batch of them (the tracking client's list), costs the same few statements: the
experiment's row locked and read, then on PostgreSQL one statement inserting every report and
writing `last_metric` and its value rows (elsewhere: one multi-row insert, one update, one
upsert). Only a group with early-stopping rules has its row locked first (the order stop_group
takes them: a rule reached stops the group); a group with policies pays three statements more
(services/group/early_stopping.py: where the experiment stands at each report, and the others
at an evaluated report), whatever the number of reports and experiments.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentMetric, ExperimentValue
from dashboard.models.experiments import value_columns
from dashboard.models.types import JSONText, utcnow
from dashboard.services.group import early_stopping
from dashboard.services.listing import paginate


@dataclass(frozen=True)
class Report:
    """One set of values and when it was measured (None: now)."""

    values: dict
    created_at: datetime | None = None


@dataclass(frozen=True)
class StoredReport:
    """A report as stored: its row id, its experiment, its values and time."""

    id: int
    experiment_id: int
    values: dict
    created_at: datetime


_METRICS = ExperimentMetric.__table__
_VALUES = ExperimentValue.__table__
# Built once: every report runs them.
# The lock first, alone: a statement that waited for it reads other tables as they were before
# the wait (READ COMMITTED), so the latest report time is read by the next statement.
_LOCKED_SUMMARY = (
    select(Experiment.last_metric, Experiment.status, Experiment.stop_requested_at)
    .where(Experiment.id == bindparam("experiment_id"))
    .with_for_update()
)
_LATEST = select(func.max(_METRICS.c.created_at)).where(
    _METRICS.c.experiment_id == bindparam("experiment_id")
)
# Other databases: one multi-row VALUES (asking SQLAlchemy to keep the parameters' order would
# send one statement per row on SQLite); ids are drawn in the rows' order all the same.
_INSERT = insert(_METRICS).returning(_METRICS.c.id)
# PostgreSQL: the whole report in one statement, whatever the batch. The reports go in as one
# JSON array (a VALUES list of 1,000 rows is 3,000 parameters psycopg parses afresh each time);
# the json type (not jsonb) gives each item's values back as the very text written, JSONText's;
# ids are drawn in the rows' order and come back as one array. last_metric and its value rows,
# folded in Python as if no stored report were later than these, are written only if none is
# (the statement's other parts do not see the rows it inserts); else `folded` is false and the
# caller rebuilds them from the history.
_WRITE = text("""
WITH prior AS (
    SELECT max(created_at) AS latest FROM experiment_metrics WHERE experiment_id = :experiment_id
), stored AS (
    INSERT INTO experiment_metrics (experiment_id, values, created_at)
    SELECT :experiment_id, (r.item -> 'v')::text, (r.item ->> 'c')::timestamptz
    FROM json_array_elements(CAST(:reports AS json)) WITH ORDINALITY AS r(item, n)
    ORDER BY r.n RETURNING id
), summary AS (
    UPDATE experiments SET last_metric = :latest, updated_at = :now
    WHERE id = :experiment_id AND NOT EXISTS (SELECT 1 FROM prior WHERE latest > :earliest)
    RETURNING id
), mirrored AS (
    INSERT INTO experiment_values (experiment_id, group_id, kind, name, num_value, text_value)
    SELECT v.experiment_id, v.group_id, v.kind, v.name, v.num_value, v.text_value
    FROM json_to_recordset(CAST(:value_rows AS json)) AS v(experiment_id integer,
        group_id integer, kind text, name text, num_value double precision, text_value text)
    WHERE EXISTS (SELECT 1 FROM summary)
    ON CONFLICT (experiment_id, kind, name)
    DO UPDATE SET num_value = EXCLUDED.num_value, text_value = EXCLUDED.text_value
)
SELECT (SELECT array_agg(id ORDER BY id) FROM stored), EXISTS (SELECT 1 FROM summary)
""")
_AS_JSON = JSONText()
_SUMMARY = (
    update(Experiment.__table__)
    .where(Experiment.__table__.c.id == bindparam("experiment_id"))
    .values(last_metric=bindparam("latest"), updated_at=bindparam("now"))
)
_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _history(experiment_id):
    return (
        select(ExperimentMetric)
        .where(ExperimentMetric.experiment_id == experiment_id)
        .order_by(ExperimentMetric.created_at, ExperimentMetric.id)
    )


def _fold_in_order(stored_latest, rows):
    """The new last_metric if no stored report is later than these, and the names changed."""
    latest = dict(stored_latest or {})
    names = set()
    for row in sorted(rows, key=lambda r: r["created_at"]):  # stable: arrival order on ties
        latest.update(row["values"])
        names.update(row["values"])
    return latest, names


def _rebuild(experiment_id, stored_latest):
    """last_metric from the whole history (a report older than one stored came: rare)."""
    latest = {}
    history = (
        select(_METRICS.c["values"])
        .where(_METRICS.c.experiment_id == experiment_id)
        .order_by(_METRICS.c.created_at, _METRICS.c.id)
    )
    for (values,) in db.session.execute(history):
        latest.update(values)
    return latest, set(latest) | set(stored_latest or {})


def _value_rows(experiment, latest, names):
    rows = []
    for name in sorted(names & latest.keys()):
        num, text = value_columns(latest[name])
        rows.append(
            {
                "experiment_id": experiment.id,
                "group_id": experiment.group_id,
                "kind": "metric",
                "name": name,
                "num_value": num,
                "text_value": text,
            }
        )
    return rows


def _write_summary(experiment, latest, names, now):
    """Write last_metric and upsert the value rows of the changed names, drop vanished ones."""
    db.session.execute(_SUMMARY, {"experiment_id": experiment.id, "latest": latest, "now": now})
    rows = _value_rows(experiment, latest, names)
    gone = names - latest.keys()
    upsert = _UPSERTS.get(db.session.get_bind().dialect.name)
    if upsert is None:  # another database: delete and insert, as portable SQL
        gone = names
    if gone:
        db.session.execute(
            delete(ExperimentValue).where(
                ExperimentValue.experiment_id == experiment.id,
                ExperimentValue.kind == "metric",
                ExperimentValue.name.in_(gone),
            )
        )
    if rows and upsert is None:
        db.session.execute(insert(_VALUES), rows)
    elif rows:
        stmt = upsert(_VALUES).values(rows)
        db.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[_VALUES.c.experiment_id, _VALUES.c.kind, _VALUES.c.name],
                set_={"num_value": stmt.excluded.num_value, "text_value": stmt.excluded.text_value},
            )
        )


def _store(experiment, rows, latest, names, now):
    """Insert the report rows and, unless a stored report is later than one of them, write
    the in-order fold (latest, names): (the rows' ids in order, whether it was written)."""
    earliest = min(row["created_at"] for row in rows)
    if db.session.get_bind().dialect.name == "postgresql":
        reports = [{"v": row["values"], "c": row["created_at"].isoformat()} for row in rows]
        ids, folded = db.session.execute(
            _WRITE,
            {
                "experiment_id": experiment.id,
                "reports": _AS_JSON.process_bind_param(reports, None),
                "latest": _AS_JSON.process_bind_param(latest, None),
                "now": now,
                "earliest": earliest,
                "value_rows": _AS_JSON.process_bind_param(
                    _value_rows(experiment, latest, names), None
                ),
            },
        ).one()
        return ids, folded
    previous = db.session.scalar(_LATEST, {"experiment_id": experiment.id})
    ids = sorted(db.session.execute(_INSERT, rows).scalars().all())
    if previous is not None and previous > earliest:
        return ids, False
    _write_summary(experiment, latest, names, now)
    return ids, True


def report_metrics(access, reports):
    """Store reports (validated Report-like objects) for the experiment; returns StoredReports.

    Folds them into last_metric and the metric value rows, then applies the group's
    early-stopping rules: values reached stop the group, policies stop this experiment. One
    commit.
    """
    access.require("report_metrics")
    experiment, group = access.experiment, access.group
    if early_stopping.has_rules(group):
        # Its status, read under the lock (the mode lookups.load_group takes).
        db.session.refresh(group, with_for_update={"key_share": True})
    stored_latest, status, stop_requested_at = db.session.execute(
        _LOCKED_SUMMARY, {"experiment_id": experiment.id}
    ).one()
    # As read under the lock: a policy judges the experiment by them.
    set_committed_value(experiment, "status", status)
    set_committed_value(experiment, "stop_requested_at", stop_requested_at)
    now = utcnow()
    rows = [
        {
            "experiment_id": experiment.id,
            "values": dict(report.values),
            "created_at": report.created_at or now,
        }
        for report in reports
    ]
    latest, names = _fold_in_order(stored_latest, rows)
    ids, folded = _store(experiment, rows, latest, names, now)
    if not folded:
        latest, names = _rebuild(experiment.id, stored_latest)
        _write_summary(experiment, latest, names, now)
    set_committed_value(experiment, "last_metric", latest)
    set_committed_value(experiment, "updated_at", now)
    for report in reports if early_stopping.has_rules(group) else ():
        if early_stopping.check_metrics(group, report.values, experiment):
            break
    if early_stopping.has_policies(group):
        in_order = sorted(rows, key=lambda row: row["created_at"])  # stable: as sent on ties
        early_stopping.apply_policies(group, experiment, [row["values"] for row in in_order])
    db.session.commit()
    return [StoredReport(id=row_id, **row) for row_id, row in zip(ids, rows, strict=True)]


def list_metrics(access, *, limit, offset):
    """A page of the experiment's reports, oldest first."""
    access.require("read")
    return paginate(_history(access.experiment.id), limit, offset)


def reported_values(experiment_ids):
    """(experiment id, values) of every report of the experiments, in report order: one query."""
    return db.session.execute(
        select(ExperimentMetric.experiment_id, ExperimentMetric.values)
        .where(ExperimentMetric.experiment_id.in_(experiment_ids))
        .order_by(ExperimentMetric.created_at, ExperimentMetric.id)
    ).all()


def metric_ranges(group_ids):
    """{metric name: {group id: (lowest, highest)}} of the groups' experiments' numeric latest
    values: one query."""
    ranges = {}
    for group_id, name, low, high in db.session.execute(
        select(
            Experiment.group_id,
            ExperimentValue.name,
            func.min(ExperimentValue.num_value),
            func.max(ExperimentValue.num_value),
        )
        .join(Experiment, Experiment.id == ExperimentValue.experiment_id)
        .where(
            Experiment.group_id.in_(group_ids),
            ExperimentValue.kind == "metric",
            ExperimentValue.num_value.is_not(None),
        )
        .group_by(Experiment.group_id, ExperimentValue.name)
    ):
        ranges.setdefault(name, {})[group_id] = (low, high)
    return ranges
