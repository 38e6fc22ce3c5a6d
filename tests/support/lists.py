"""The experiment list as the list and query tests read it."""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentValue
from dashboard.models.experiments import value_columns


def experiments_in_order(group):
    """The group's experiments in id order."""
    return db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def report(experiment, **metrics):
    """Record an experiment's latest metrics the way metric reporting will: JSON and typed rows."""
    experiment.last_metric = {**(experiment.last_metric or {}), **metrics}
    for name, value in metrics.items():
        row = db.session.get(ExperimentValue, (experiment.id, "metric", name))
        if row is None:
            row = ExperimentValue(
                experiment_id=experiment.id, group_id=experiment.group_id, kind="metric", name=name
            )
            db.session.add(row)
        row.num_value, row.text_value = value_columns(value)
    db.session.commit()


def list_experiments(client, group, headers, **params):
    """The JSON answer of the group's experiment list (asserted 200)."""
    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": group.id, **params},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    return response.json


def row_ids(body):
    """The ids of a list answer's rows, in order."""
    return [row["id"] for row in body["results"]]
