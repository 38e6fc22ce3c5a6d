"""Loading one group of a project, and counting its running experiments."""

from sqlalchemy import func, select

from dashboard.errors import NotFound
from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup
from dashboard.models.statuses import RUNNING_EXPERIMENT_STATUSES


def load_group(access, group_id, *, for_update=False):
    """The group of the project with this id, or NotFound."""
    stmt = select(ExperimentGroup).where(
        ExperimentGroup.id == group_id, ExperimentGroup.project_id == access.project.id
    )
    if for_update:
        stmt = stmt.with_for_update(of=ExperimentGroup)
    group = db.session.execute(stmt).scalar_one_or_none()
    if group is None:
        raise NotFound()
    return group


def num_running(group_id):
    """How many experiments of the group are scheduled, starting or running."""
    return db.session.execute(
        select(func.count()).where(
            Experiment.group_id == group_id, Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES)
        )
    ).scalar_one()
