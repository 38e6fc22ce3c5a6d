"""Operations on one experiment: update, heartbeat, stop, statuses, logs, outputs.

`access` is a credentials.ExperimentAccess: a user, or the experiment's own credentials.
"""

import os

from flask import current_app
from sqlalchemy import select

from dashboard.errors import ValidationError, field_error
from dashboard.experiment_keys import mask_keys
from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentStatus
from dashboard.models.statuses import (
    EXPERIMENT_STATUSES,
    RUNNING_EXPERIMENT_STATUSES,
    IllegalTransition,
)
from dashboard.models.types import utcnow
from dashboard.services.experiment.restarts import outputs_owner
from dashboard.services.group.groups import apply_labels
from dashboard.services.group.statuses import set_experiment_status
from dashboard.services.listing import paginate
from dashboard.storage import paths, safe_files

MAX_LOG_BYTES = 2 * 1024 * 1024
MAX_LOG_LINES = 10000
MAX_OUTPUTS = 500


def _lock(access):
    db.session.execute(
        select(Experiment.id).where(Experiment.id == access.experiment.id).with_for_update()
    )
    db.session.refresh(access.experiment)
    return access.experiment


def update_experiment(access, *, fields):
    """Write name, description and tags (merged with `merge`); anything else is ignored."""
    access.require("edit")
    experiment = _lock(access)
    apply_labels(experiment, fields)
    if fields.keys() & {"name", "description", "tags"}:
        experiment.updated_at = utcnow()
    db.session.commit()
    return experiment


def heartbeat(access):
    """The tracking client's liveness ping: checked, nothing stored (the worker watches pids)."""
    access.require("report_metrics")


def stop_experiment(access):
    """Stop one experiment: pending at once, running ones by a request the worker carries out.

    Stopping a finished experiment is a no-op, like stopping a finished group.
    """
    access.require("stop")
    experiment = _lock(access)
    if experiment.status == "created":
        set_experiment_status(experiment, "stopped", "Stopped by the user.")
    elif experiment.status in RUNNING_EXPERIMENT_STATUSES and experiment.stop_requested_at is None:
        experiment.stop_requested_at = utcnow()
    db.session.commit()
    return experiment


def list_statuses(access, *, limit, offset):
    """A page of the experiment's status rows, oldest first."""
    access.require("read")
    stmt = (
        select(ExperimentStatus)
        .where(ExperimentStatus.experiment_id == access.experiment.id)
        .order_by(ExperimentStatus.id)
    )
    return paginate(stmt, limit, offset)


def status_rows(experiment_id):
    """Every status row of the experiment, oldest first: one query (the caller checked access)."""
    return db.session.scalars(
        select(ExperimentStatus)
        .where(ExperimentStatus.experiment_id == experiment_id)
        .order_by(ExperimentStatus.id)
    ).all()


def _latest_status_row(experiment_id):
    return db.session.scalars(
        select(ExperimentStatus)
        .where(ExperimentStatus.experiment_id == experiment_id)
        .order_by(ExperimentStatus.id.desc())
        .limit(1)
    ).first()


def post_status(access, *, status, message=None, traceback=None):
    """Append a status: the experiment itself moves only as the table allows (a repeat or a
    final status reached first is a no-op); admins may also repeat the current status, and
    `stopped` stops it as the stop operation does."""
    access.require("post_status")
    if status not in EXPERIMENT_STATUSES.statuses:
        choices = ", ".join(EXPERIMENT_STATUSES.statuses)
        raise field_error("status", f"'{status}' is not an experiment status (one of: {choices}).")
    if traceback:
        message = f"{message}\n{traceback}" if message else traceback
    experiment = _lock(access)
    try:
        if access.by_itself:
            set_experiment_status(experiment, status, message)
        elif status == "stopped" and experiment.status in RUNNING_EXPERIMENT_STATUSES:
            experiment.stop_requested_at = experiment.stop_requested_at or utcnow()
        elif status == experiment.status:
            db.session.add(
                ExperimentStatus(
                    experiment_id=experiment.id, status=status, message=message, created_at=utcnow()
                )
            )
        else:
            EXPERIMENT_STATUSES.check(experiment.status, status, strict=True)
            set_experiment_status(experiment, status, message)
    except IllegalTransition as exc:
        raise field_error("status", str(exc)) from None
    db.session.commit()
    return _latest_status_row(experiment.id)


def log_path(access):
    """The experiment's log file (it may not exist yet)."""
    project = access.project
    return paths.experiment_log_path(
        current_app.config,
        project.owner.username,
        project.name,
        access.group.id,
        access.experiment.id,
    )


def _tail_lines(tail):
    if tail is None or tail == "":
        return MAX_LOG_LINES
    try:
        lines = int(tail)
    except (TypeError, ValueError):
        lines = -1
    if lines < 0:
        raise ValidationError(f"tail must be a non-negative integer, not '{tail}'.")
    return min(lines, MAX_LOG_LINES)


def read_log(access, *, tail=None):
    """The last `tail` lines of the experiment's log (all, up to a cap); '' if there is none.

    The cap: the last 10,000 lines within the last 2 MiB of the file.
    """
    access.require("read")
    lines = _tail_lines(tail)
    if lines == 0:
        return ""
    # The experiment's own code could turn its log into a link, a FIFO, a socket: all read as ''.
    handle = safe_files.open_regular(log_path(access))
    if handle is None:
        return ""
    with handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - MAX_LOG_BYTES))
        data = handle.read()
        truncated = size > MAX_LOG_BYTES
    text = data.decode(errors="replace")
    kept = text.splitlines(keepends=True)
    if truncated and kept:
        kept = kept[1:]  # the first line was cut by the byte cap
    return mask_keys("".join(kept[-lines:]))


def outputs(access):
    """The files under the experiment's outputs folder (a resume's: the one it writes into, its
    original's): [{"path", "size"}], sorted, capped."""
    project = access.project
    root = paths.experiment_outputs_dir(
        current_app.config,
        project.owner.username,
        project.name,
        access.group.id,
        outputs_owner(access.experiment),
    )
    files = sorted(safe_files.regular_files(root), key=lambda file: file[0].split("/"))
    return [{"path": path, "size": size} for path, size in files[:MAX_OUTPUTS]]
