"""Metrics an experiment reports: the history, its latest values, and early stopping.

Who may report: the experiment's own credentials while it is unfinished (they expire with it),
or a member and above at any time, a finished experiment included (late evaluations). Each
report is kept as an ExperimentMetric row; `last_metric` holds the latest value of each name by
report time (`created_at`, then arrival), mirrored in ExperimentValue rows of kind "metric" so
lists sort and filter by metric in SQL.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, ExperimentMetric, ExperimentValue
from dashboard.models.experiments import value_columns
from dashboard.models.types import utcnow
from dashboard.services import early_stopping
from dashboard.services.listing import paginate


@dataclass(frozen=True)
class Report:
    """One set of values and when it was measured (None: now)."""

    values: dict
    created_at: datetime | None = None


def _lock(access):
    """Lock the group, then the experiment (the order stop_group takes them), and reload both."""
    db.session.execute(
        select(ExperimentGroup.id).where(ExperimentGroup.id == access.group.id).with_for_update()
    )
    db.session.execute(
        select(Experiment.id).where(Experiment.id == access.experiment.id).with_for_update()
    )
    db.session.refresh(access.group)
    db.session.refresh(access.experiment)


def _history():
    return select(ExperimentMetric).order_by(ExperimentMetric.created_at, ExperimentMetric.id)


def _fold(experiment, rows, previous_latest):
    """The new last_metric, and the names whose value may have changed."""
    if previous_latest is None or min(r.created_at for r in rows) >= previous_latest:
        latest = dict(experiment.last_metric or {})
        ordered = sorted(rows, key=lambda r: r.created_at)  # stable: arrival order on ties
        names = set()
        for row in ordered:
            latest.update(row.values)
            names.update(row.values)
        return latest, names
    # A report older than one already stored: rebuild from the whole history (rare).
    latest = {}
    history = _history().where(ExperimentMetric.experiment_id == experiment.id)
    for row in db.session.scalars(history):
        latest.update(row.values)
    return latest, set(latest) | set(experiment.last_metric or {})


def _mirror(experiment, latest, names):
    experiment_id = experiment.id
    db.session.execute(
        delete(ExperimentValue).where(
            ExperimentValue.experiment_id == experiment_id, ExperimentValue.kind == "metric",
            ExperimentValue.name.in_(names),
        )
    )
    rows = []
    for name in sorted(names):
        if name in latest:
            num, text = value_columns(latest[name])
            rows.append({"experiment_id": experiment_id, "group_id": experiment.group_id,
                         "kind": "metric", "name": name, "num_value": num, "text_value": text})
    if rows:
        db.session.execute(insert(ExperimentValue), rows)


def report_metrics(access, reports):
    """Store reports (validated Report-like objects) for the experiment; returns their rows.

    Folds them into last_metric and the metric value rows, then applies the group's
    early-stopping rules. One commit.
    """
    access.require("report_metrics")
    _lock(access)
    experiment = access.experiment
    previous_latest = db.session.scalar(
        select(func.max(ExperimentMetric.created_at))
        .where(ExperimentMetric.experiment_id == experiment.id)
    )
    now = utcnow()
    rows = [
        ExperimentMetric(experiment_id=experiment.id, values=dict(report.values),
                         created_at=report.created_at or now)
        for report in reports
    ]
    db.session.add_all(rows)
    db.session.flush()
    latest, names = _fold(experiment, rows, previous_latest)
    experiment.last_metric = latest
    experiment.updated_at = now
    _mirror(experiment, latest, names)
    for report in reports:
        if early_stopping.check_metrics(access.group, report.values, experiment):
            break
    db.session.commit()
    return rows


def list_metrics(access, *, limit, offset):
    """A page of the experiment's reports, oldest first."""
    access.require("read")
    stmt = _history().where(ExperimentMetric.experiment_id == access.experiment.id)
    return paginate(stmt, limit, offset)
