"""What the curves plot reads beyond the group's columns: the reports of the experiments it
draws, in one query through the experiment index."""

from sqlalchemy import select, type_coerce
from sqlalchemy.types import Text

from dashboard.extensions import db
from dashboard.models import ExperimentMetric


def reports(experiment_ids):
    """(experiment id, the report's values as JSON text) of the experiments, in report order."""
    if not experiment_ids:
        return []
    em = ExperimentMetric
    return db.session.execute(
        select(em.experiment_id, type_coerce(em.values, Text))
        .where(em.experiment_id.in_(experiment_ids))
        .order_by(em.experiment_id, em.created_at, em.id)
    ).all()
