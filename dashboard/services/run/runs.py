"""What the runner does to the database: workers, lost and unpicked experiments, outcomes
and stop requests (advancing groups is advance.py; claiming, claims.py).

Every function commits its own transaction, so several workers can share one database.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from dashboard.extensions import db
from dashboard.models import (
    Experiment,
    ExperimentGroup,
    Worker,
)
from dashboard.models.statuses import RUNNING_EXPERIMENT_STATUSES
from dashboard.models.types import utcnow
from dashboard.processes.isolation import sandbox_enabled
from dashboard.services.group.statuses import (
    record_experiment_statuses,
    set_experiment_status,
)
from dashboard.services.run.claims import claim_experiments as claim_experiments

LOST_PROCESS = "The runner lost the process."


def heartbeat(name, host, pid, gpus=None):
    """Record that the worker is alive, with the GPU ids it declares."""
    worker = db.session.get(Worker, name)
    now = utcnow()
    gpus = list(gpus or ()) or None
    if worker is None:
        db.session.add(
            Worker(name=name, host=host, pid=pid, started_at=now, last_seen_at=now, gpus=gpus)
        )
    else:
        worker.last_seen_at = now
        if worker.gpus != gpus:
            worker.gpus = gpus
    db.session.commit()


def forget_worker(name):
    """Remove a worker that shuts down cleanly."""
    worker = db.session.get(Worker, name)
    if worker is not None:
        db.session.delete(worker)
        db.session.commit()


def lost_experiments(*, timeout, host, alive, message=LOST_PROCESS):
    """Experiments of workers that vanished: silent past `timeout`, or dead on this host.

    `alive(pid)` tells whether a process of this host still exists (Celery workers, which report
    over HTTP, have pid 0 and are judged by their heartbeats alone). Marks each lost experiment
    failed with `message` ({worker} names its worker) and returns its (id, pid, worker host);
    the caller kills leftover process groups on its host.
    """
    workers = db.session.scalars(select(Worker)).all()
    hosts = {w.name: w.host for w in workers}
    for w in workers:
        if w.pid and w.host == host and not alive(w.pid):
            db.session.execute(delete(Worker).where(Worker.name == w.name))
    # Conditional, so a heartbeat that lands meanwhile keeps its worker.
    db.session.execute(
        delete(Worker).where(Worker.last_seen_at < utcnow() - timedelta(seconds=timeout))
    )
    # One statement: a worker that registers meanwhile commits its row with its experiment.
    claimed = db.session.scalars(
        select(Experiment).where(
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
            Experiment.worker.is_not(None),
            Experiment.worker.not_in(select(Worker.name)),
        )
    ).all()
    lost = []
    for experiment in claimed:
        if set_experiment_status(experiment, "failed", message.format(worker=experiment.worker)):
            lost.append((experiment.id, experiment.pid, hosts.get(experiment.worker)))
    db.session.commit()
    return lost


def unpicked_experiments(worker_name, *, timeout, message):
    """Fail the experiments sent to workers that none took within `timeout` s; returns their ids.

    The send time is the experiment's last update while it is `starting` under the scheduler's
    own claim (`worker_name`): it goes `starting` and gets its key just before its task is sent,
    and a worker's start report moves it to `running` and to that worker. One conditional UPDATE
    on the (status, worker) index, so a start report landing at the same moment either comes
    first (the row no longer matches) or is refused (the experiment is final), never both.
    """
    now = utcnow()
    ids = db.session.scalars(
        update(Experiment)
        .where(
            Experiment.status == "starting",
            Experiment.worker == worker_name,
            Experiment.updated_at < now - timedelta(seconds=timeout),
        )
        .values(status="failed", updated_at=now, finished_at=now)
        .returning(Experiment.id)
        .execution_options(synchronize_session=False)
    ).all()
    if ids:
        record_experiment_statuses(ids, "failed", message, now)
    db.session.commit()
    return ids


def mark(experiment_id, status, message=None, *, pid=None):
    """Move a claimed experiment on (starting, running, succeeded, failed, stopped)."""
    experiment = db.session.get(Experiment, experiment_id)
    if experiment is None:
        return None
    db.session.refresh(experiment)
    if pid is not None:
        experiment.pid = pid
    changed = set_experiment_status(experiment, status, message)
    db.session.commit()
    return experiment if changed else None


def stop_requests(worker_name):
    """Experiments of this worker that someone asked to stop, or that are no longer wanted."""
    return db.session.execute(
        select(Experiment.id, Experiment.pid).where(
            Experiment.worker == worker_name,
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
            Experiment.stop_requested_at.is_not(None),
        )
    ).all()


def gone(experiment_ids):
    """Which of these experiments were deleted (their group was deleted)."""
    if not experiment_ids:
        return set()
    present = set(
        db.session.scalars(select(Experiment.id).where(Experiment.id.in_(experiment_ids))).all()
    )
    return set(experiment_ids) - present


def existing_groups(group_ids, chunk=500):
    """Which of these groups still exist (the others were deleted)."""
    group_ids = sorted(group_ids)
    found = set()
    for start in range(0, len(group_ids), chunk):
        found.update(
            db.session.scalars(
                select(ExperimentGroup.id).where(
                    ExperimentGroup.id.in_(group_ids[start : start + chunk])
                )
            ).all()
        )
    return found


def launch_details(experiment_id):
    """The experiment with its group and project (owner loaded), or None if it was deleted;
    read afresh (the session keeps objects across commits: a cached group would hide a pause)."""
    from dashboard.models import Project

    row = db.session.execute(
        select(Experiment, ExperimentGroup, Project)
        .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
        .join(Project, Project.id == ExperimentGroup.project_id)
        .where(Experiment.id == experiment_id)
        .execution_options(populate_existing=True)
    ).first()
    return tuple(row) if row else None


def pending_stops():
    """Every unfinished experiment someone asked to stop: (id, uuid, worker)."""
    return db.session.execute(
        select(Experiment.id, Experiment.uuid, Experiment.worker).where(
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
            Experiment.stop_requested_at.is_not(None),
        )
    ).all()


def claimed_unsent(worker_name):
    """The experiments `worker_name` claimed (`scheduled`) and never moved on, by id."""
    return db.session.scalars(
        select(Experiment.id)
        .where(Experiment.status == "scheduled", Experiment.worker == worker_name)
        .order_by(Experiment.id)
    ).all()


def in_flight():
    """How many experiments are claimed and unfinished, on every worker together."""
    return db.session.scalar(
        select(func.count()).where(Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES))
    )


def experiments_isolated():
    """Whether experiments run in the sandbox (SANDBOX is not "off")."""
    return sandbox_enabled(current_app.config)
