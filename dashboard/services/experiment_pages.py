"""What the experiment page shows: params, statuses, metric history, log tail, outputs, neighbours.

Five queries (project, experiment, statuses, metrics, neighbours) plus a walk of its outputs.
"""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from dashboard import permissions, safe_files
from dashboard.errors import NotFound
from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentMetric, ExperimentStatus
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.runner import paths
from dashboard.services import experiment_actions
from dashboard.services.credentials import experiment_access
from dashboard.services.plots import number

LOG_TAIL = 200
MAX_OUTPUTS = 500


@dataclass(frozen=True)
class ExperimentPage:
    """One experiment with its history, log tail, outputs and its neighbours in the group."""

    access: object
    statuses: list
    metrics: dict  # name -> [(step, value)]
    log: str
    outputs: list
    previous_id: int | None
    next_id: int | None

    @property
    def experiment(self):
        return self.access.experiment

    @property
    def group(self):
        return self.access.group

    @property
    def is_final(self):
        return EXPERIMENT_STATUSES.is_final(self.experiment.status)

    @property
    def allowed(self):
        return permissions.actions(self.access.role)


def load(owner, project_name, group_id, experiment_id, *, actor, action="read"):
    """The experiment of that group, checked for the action (NotFound if in another group)."""
    access = experiment_access(owner, project_name, experiment_id, actor=actor, action=action)
    if access.group.id != group_id:
        raise NotFound()
    return access


def outputs(access):
    """The files under the experiment's outputs folder: [{"path", "size"}], sorted, capped."""
    project = access.project
    root = paths.experiment_outputs_dir(current_app.config, project.owner.username, project.name,
                                        access.group.id, access.experiment.id)
    files = sorted(safe_files.regular_files(root), key=lambda file: file[0].split("/"))
    return [{"path": path, "size": size} for path, size in files[:MAX_OUTPUTS]]


def metric_history(experiment_id):
    """Every reported metric as a series of (report number, value), numbers only."""
    rows = db.session.scalars(
        select(ExperimentMetric.values).where(ExperimentMetric.experiment_id == experiment_id)
        .order_by(ExperimentMetric.created_at, ExperimentMetric.id)
    ).all()
    series = {}
    for step, values in enumerate(rows, start=1):
        for name, value in (values or {}).items():
            if (value := number(value)) is not None:
                series.setdefault(name, []).append((step, value))
    return series


def _neighbours(experiment):
    row = db.session.execute(
        select(
            select(func.max(Experiment.id)).where(Experiment.group_id == experiment.group_id,
                                                  Experiment.id < experiment.id)
            .scalar_subquery(),
            select(func.min(Experiment.id)).where(Experiment.group_id == experiment.group_id,
                                                  Experiment.id > experiment.id)
            .scalar_subquery(),
        )
    ).one()
    return row[0], row[1]


def experiment_page(access):
    """Everything the experiment page shows."""
    statuses = db.session.scalars(
        select(ExperimentStatus).where(ExperimentStatus.experiment_id == access.experiment.id)
        .order_by(ExperimentStatus.id)
    ).all()
    previous_id, next_id = _neighbours(access.experiment)
    return ExperimentPage(access=access, statuses=statuses,
                          metrics=metric_history(access.experiment.id),
                          log=experiment_actions.read_log(access, tail=LOG_TAIL),
                          outputs=outputs(access), previous_id=previous_id, next_id=next_id)


def experiment_log(access):
    """The log tail and whether the experiment is final (polling stops then)."""
    return experiment_actions.read_log(access, tail=LOG_TAIL), EXPERIMENT_STATUSES.is_final(
        access.experiment.status)
