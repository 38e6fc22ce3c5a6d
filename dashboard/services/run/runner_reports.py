"""What a Celery worker reports over HTTP, with the experiment's own key: start and heartbeats.

Workers never touch the database; these calls record them in the `workers` table (pid 0: their
processes live on other machines), so the scheduler's lost-worker check covers them too.
"""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from dashboard.errors import Conflict, Forbidden
from dashboard.extensions import db
from dashboard.models import Experiment, Worker
from dashboard.models.types import utcnow
from dashboard.services.group.statuses import set_experiment_status

WAITING = ("starting",)


def _lock(access):
    if not access.by_itself:
        raise Forbidden()  # only the experiment's own key, which its worker holds
    db.session.execute(
        select(Experiment.id).where(Experiment.id == access.experiment.id).with_for_update()
    )
    db.session.refresh(access.experiment)
    return access.experiment


def _seen(worker, host):
    now = utcnow()
    result = db.session.execute(
        update(Worker)
        .where(Worker.name == worker)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.add(Worker(name=worker, host=host, pid=0, started_at=now, last_seen_at=now))
    except IntegrityError:  # another task of the same worker registered it first
        db.session.execute(update(Worker).where(Worker.name == worker).values(last_seen_at=now))


def start(access, *, worker, host):
    """The worker took the experiment: it runs there now (409 if it is no longer waiting)."""
    experiment = _lock(access)
    if experiment.status not in WAITING or experiment.stop_requested_at is not None:
        db.session.rollback()
        raise Conflict(f"The experiment is {experiment.status}, not waiting for a worker.")
    _seen(worker, host)
    experiment.worker = worker
    set_experiment_status(experiment, "running", f"Running on {worker}.")
    db.session.commit()


def heartbeat(access, *, worker, host, pid=None):
    """The worker still runs the experiment; returns whether it should stop it."""
    experiment = _lock(access)
    if experiment.status != "running" or experiment.worker != worker:
        db.session.rollback()
        raise Conflict(f"The experiment is {experiment.status}, not running on {worker}.")
    _seen(worker, host)
    if pid and experiment.pid != pid:
        experiment.pid = pid
    stop = experiment.stop_requested_at is not None
    db.session.commit()
    return stop
