"""Status changes of groups and experiments: the one place transitions are applied."""

from sqlalchemy import insert, select, update

from dashboard.errors import field_error
from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentStatus, GroupStatus
from dashboard.models.statuses import (
    EXPERIMENT_STATUSES,
    GROUP_STATUSES,
    RUNNING_EXPERIMENT_STATUSES,
    IllegalTransition,
)
from dashboard.models.types import new_uuid, utcnow
from dashboard.services.group import events
from dashboard.services.group.tallies import num_running
from dashboard.services.listing import paginate
from dashboard.services.lookups import load_group
from dashboard.services.project import webhook_events


def append_group_status(group, status, message=None):
    """Append a status row and mirror it on the group (no transition check: callers check)."""
    now = utcnow()
    db.session.add(GroupStatus(group_id=group.id, status=status, message=message, created_at=now))
    group.status = status
    if status == "running" and group.started_at is None:
        group.started_at = now
    if GROUP_STATUSES.is_final(status) and group.finished_at is None:
        group.finished_at = now
    group.updated_at = now
    webhook_events.group_status_changed(group, status)


def set_group_status(group, status, message=None, *, strict=False):
    """Move the group to a status if the table allows it; True if it changed."""
    if not GROUP_STATUSES.check(group.status, status, strict=strict):
        return False
    append_group_status(group, status, message)
    return True


def reopen_group(group, message):
    """A final group goes back to `running`, saying why (no commit): it was retried, extended or
    got a restarted experiment. Its earlier end stays in its history; True if it moved."""
    if not group.is_final:
        return False
    append_group_status(group, "running", message)
    group.finished_at = None
    return True


def set_experiment_statuses(group_id, from_statuses, status, message=None):
    """Move every experiment of the group in from_statuses to status; returns how many moved.

    A constant number of queries whatever the number of experiments.
    """
    allowed = [s for s in from_statuses if EXPERIMENT_STATUSES.check(s, status)]
    if not allowed:
        return 0
    ids = db.session.scalars(
        select(Experiment.id)
        .where(Experiment.group_id == group_id, Experiment.status.in_(allowed))
        .order_by(Experiment.id)
        .with_for_update()
    ).all()
    if not ids:
        return 0
    now = utcnow()
    values = {"status": status, "updated_at": now}
    if EXPERIMENT_STATUSES.is_final(status):
        values["finished_at"] = now
    db.session.execute(
        update(Experiment)
        .where(Experiment.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    record_experiment_statuses(ids, status, message, now)
    return len(ids)


def record_experiment_statuses(ids, status, message, at):
    """The status rows of experiments moved in bulk (one insert; no commit)."""
    db.session.execute(
        insert(ExperimentStatus),
        [
            {
                "uuid": new_uuid(),
                "experiment_id": i,
                "status": status,
                "message": message,
                "created_at": at,
            }
            for i in ids
        ],
    )
    if status == "failed":
        webhook_events.experiments_failed(ids)


def request_stop(group, *, pending_only=False, message=None):
    """Stop pending experiments now and ask the runner to stop running ones (no commit).

    The group goes `stopping`, and `stopped` once no experiment of it runs (at once if none
    does; a group that never started goes straight to `stopped`).
    """
    set_experiment_statuses(group.id, ("created",), "stopped", "Stopped with its group.")
    if not pending_only:
        db.session.execute(
            update(Experiment)
            .where(
                Experiment.group_id == group.id,
                Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
                Experiment.stop_requested_at.is_(None),
            )
            .values(stop_requested_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    still_running = num_running(group.id)
    if group.status == "created" and not still_running:
        set_group_status(group, "stopped", message)
        return
    set_group_status(group, "stopping", message)
    if not still_running:
        set_group_status(group, "stopped", message)


def set_experiment_status(experiment, status, message=None):
    """Move one experiment to a status if the table allows it; True if it changed (no commit).

    A move that already happened (a final status reached first) is a no-op. A stop that was
    requested with a message (an early-stopping policy's) ends with that message, whoever
    carries the stop out (the local worker, the Celery scheduler or the Celery worker's own
    status report).
    """
    if not EXPERIMENT_STATUSES.check(experiment.status, status):
        return False
    if status == "stopped" and experiment.stop_message:
        message = experiment.stop_message
    now = utcnow()
    db.session.add(
        ExperimentStatus(
            experiment_id=experiment.id, status=status, message=message, created_at=now
        )
    )
    experiment.status = status
    experiment.updated_at = now
    if status == "running" and experiment.started_at is None:
        experiment.started_at = now
    if EXPERIMENT_STATUSES.is_final(status) and experiment.finished_at is None:
        experiment.finished_at = now
    if status == "failed":
        webhook_events.experiments_failed([experiment.id])
    return True


def list_group_statuses(access, group_id, *, limit, offset):
    """A page of the group's status rows, oldest first."""
    group = load_group(access, group_id)
    stmt = select(GroupStatus).where(GroupStatus.group_id == group.id).order_by(GroupStatus.id)
    return paginate(stmt, limit, offset)


def group_status_rows(group_id):
    """Every status row of the group, oldest first: one query (the caller loaded the group)."""
    return db.session.scalars(
        select(GroupStatus).where(GroupStatus.group_id == group_id).order_by(GroupStatus.id)
    ).all()


def post_group_status(access, group_id, *, status, message=None):
    """Append a status by hand (admins): same status appends, `stopped` runs the stop."""
    access.require("post_status")
    if status not in GROUP_STATUSES.statuses:
        choices = ", ".join(GROUP_STATUSES.statuses)
        raise field_error("status", f"'{status}' is not a group status (one of: {choices}).")
    group = load_group(access, group_id, for_update=True)
    if status == "stopped" and not group.is_final:
        request_stop(group, message=message)
    elif status == group.status:
        append_group_status(group, status, message)
    else:
        try:
            set_group_status(group, status, message, strict=True)
        except IllegalTransition as exc:
            raise field_error("status", str(exc)) from None
    events.record(group.id, user=access.actor, kind="status", message=f"Set {status} by hand.")
    db.session.commit()
    return (
        db.session.execute(
            select(GroupStatus)
            .where(GroupStatus.group_id == group.id)
            .order_by(GroupStatus.id.desc())
        )
        .scalars()
        .first()
    )
