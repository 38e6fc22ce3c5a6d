"""Driving a search group round by round without workers, as the scheduler's rounds would:
the oldest unfinished experiment succeeds with a metric, then the next round runs."""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup
from dashboard.services.group import statuses
from dashboard.services.run import advance
from tests.factories import report_metric

FINISHED = ("succeeded", "failed", "stopped")
# An asha group of 9 configurations over rungs of 1, 3 and 9 epochs, 3 at a time.
ASHA_YML = """\
version: 1
kind: group
hptuning:
  concurrency: 3
  seed: 7
  asha:
    n_experiments: 9
    min_resource: 1
    max_resource: 9
    reduction_factor: 3
    resource: {name: epochs, type: int}
    metric: {name: loss, optimization: minimize}
  matrix:
    x: {range: [0, 100, 1]}
run:
  cmd: train --x {{ x }} --epochs {{ epochs }}
"""


def asha_loss(params):
    """Lower x is better, and more epochs help."""
    return params["x"] / params["epochs"]


def experiments(group):
    """The group's experiments in id order, read afresh."""
    db.session.expire_all()
    return db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def unfinished(group):
    return [e for e in experiments(group) if e.status not in FINISHED]


def finish_oldest(group, loss):
    """The oldest unfinished experiment runs and succeeds, reporting `loss(params)`."""
    experiment = unfinished(group)[0]
    for status in ("scheduled", "starting", "running"):
        statuses.set_experiment_status(experiment, status)
    db.session.commit()
    report_metric(experiment.id, "loss", loss(experiment.params))
    statuses.set_experiment_status(db.session.get(Experiment, experiment.id), "succeeded")
    db.session.commit()


def run_rounds(group, loss, rounds=40):
    """Scheduler rounds until the group is no longer running; the number of unfinished
    experiments after each round (the slots in use)."""
    busy = []
    for _ in range(rounds):
        advance.advance_groups()
        busy.append(len(unfinished(group)))
        if db.session.get(ExperimentGroup, group.id).status != "running":
            break
        finish_oldest(group, loss)
    return busy
