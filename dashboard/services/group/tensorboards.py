"""TensorBoard jobs: a real `tensorboard` process over the group's outputs folder. What every
job shares (its start, proxy target, stop and idle stop) is here too: selections
(services.project.tensorboards) use it.

Experiments run on this machine and can reach loopback, so a TensorBoard answers only under a
secret prefix: `/<path_secret>/tensorboard/<owner>/<project>/groups/<gid>/` (a selection's:
`.../selections/<id>/`), 404 anywhere else.
Only the dashboard's proxy knows the secret (it checks read access, then forwards there). The
secret is visible in the process's command line to whoever can list this server's processes,
and in its log beside the group's outputs (whoever reads those can read the outputs anyway):
experiments run in a PID namespace where they cannot see the dashboard's processes.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from dashboard.errors import Conflict, NotFound, public_reason
from dashboard.extensions import db
from dashboard.models import TensorboardJob, TensorboardStatus
from dashboard.models.statuses import TENSORBOARD_STATUSES
from dashboard.models.types import utcnow
from dashboard.processes import control, tensorboard
from dashboard.services.group import events
from dashboard.services.lookups import load_group
from dashboard.storage import paths

UNPROTECTED = (
    "Stopped: it was started without a secret prefix (before an upgrade), so anyone "
    "on the machine could read it. Start it again."
)


@dataclass(frozen=True)
class ProxyTarget:
    """Where the proxy forwards: the TensorBoard's address and the secret its paths start with."""

    host: str
    port: int
    secret: str


def group_outputs_dir(project, group_id):
    """Where the group's experiments write their outputs (and TensorBoard reads them)."""
    return paths.group_dir(current_app.config, project.owner.username, project.name, group_id)


def set_status(job, status, message=None):
    """Move the job to `status` if its transition table allows, with a history row (no commit)."""
    if not TENSORBOARD_STATUSES.check(job.status, status):
        return
    now = utcnow()
    db.session.add(TensorboardStatus(job_id=job.id, status=status, message=message, created_at=now))
    job.status = status
    if status == "running":
        job.started_at = now
    if TENSORBOARD_STATUSES.is_final(status):
        job.finished_at = now
    job.updated_at = now


def proxy_prefix(project, group_id):
    """Where a signed-in browser opens the group's TensorBoard (through the dashboard's proxy)."""
    return f"/tensorboard/{project.owner.username}/{project.name}/groups/{group_id}/"


def selection_prefix(project, job_id):
    """Where a signed-in browser opens a selection's TensorBoard (through the proxy)."""
    return f"/tensorboard/{project.owner.username}/{project.name}/selections/{job_id}/"


def job_url(project, job):
    """The proxy prefix of a job of the project: its group's, or its selection's."""
    if job.group_id is None:
        return selection_prefix(project, job.id)
    return proxy_prefix(project, job.group_id)


def new_job(access, **fields):
    """A TensorBoard job of the project, `created`, with its secret and first status row."""
    job = TensorboardJob(
        project_id=access.project.id,
        user_id=access.actor.id,
        status="created",
        path_secret=secrets.token_urlsafe(32),
        **fields,
    )
    job.user = access.actor
    db.session.add(job)
    db.session.flush()
    db.session.add(TensorboardStatus(job_id=job.id, status="created", created_at=utcnow()))
    return job


def launch(job, project, *, log_path, logdir=None, runs=None):
    """Start the job's process (under its secret prefix) and mark it running; on failure mark it
    failed, commit, and raise Conflict. No commit on success."""
    try:
        process = tensorboard.start_tensorboard(
            logdir,
            log_path=log_path,
            path_prefix=f"/{job.path_secret}{job_url(project, job)}",
            runs=runs,
        )
    except (OSError, ValueError) as exc:  # ValueError: a folder TensorBoard's spec cannot name
        current_app.logger.warning("TensorBoard job %s could not start: %s", job.id, exc)
        set_status(job, "failed", f"TensorBoard could not start: {public_reason(exc)}")
        db.session.commit()
        raise Conflict(f"TensorBoard could not start: {public_reason(exc)}") from None
    job.pid, job.host, job.port = process.pid, process.host, process.port
    job.last_used_at = utcnow()
    set_status(job, "running")


def reuse_running(job):
    """Whether a job found running may be returned as is: an unprotected or exited one is ended
    (no commit) and a new one must start."""
    if job is None or job.status != "running":
        return False
    if job.path_secret is None:
        _stop_unprotected(job)
        return False
    if is_live(job):
        return True
    set_status(job, "failed", "The TensorBoard process exited.")
    return False


def latest_job(group_id):
    """The group's newest TensorBoard job, or None."""
    return _latest(group_id)


def _latest(group_id):
    return db.session.execute(
        select(TensorboardJob)
        .where(TensorboardJob.group_id == group_id)
        .order_by(TensorboardJob.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def start_tensorboard(access, group_id, *, content=None, is_managed=None):
    """Start the group's TensorBoard; returns (job, created). A live one is returned as is."""
    access.require("tensorboard")
    group = load_group(access, group_id, for_update=True)
    job = _latest(group.id)
    if reuse_running(job):
        return job, False
    job = new_job(
        access,
        group_id=group.id,
        content=content if content is None or isinstance(content, str) else json.dumps(content),
        is_managed=True if is_managed is None else is_managed,
    )
    logdir = group_outputs_dir(access.project, group.id)
    launch(
        job, access.project, logdir=logdir, log_path=logdir.parent / f"tensorboard-{group.id}.log"
    )
    events.record(group.id, user=access.actor, kind="tensorboard_start")
    db.session.commit()
    return job, True


def stop_tensorboard(access, group_id):
    """Stop the group's TensorBoard; nothing to do if none runs."""
    access.require("tensorboard")
    group = load_group(access, group_id, for_update=True)
    stop_processes(group.id)
    events.record(group.id, user=access.actor, kind="tensorboard_stop")
    db.session.commit()


def stop_processes(group_id):
    """End every live TensorBoard process of the group and mark its job stopped (no commit)."""
    jobs = db.session.scalars(
        select(TensorboardJob).where(
            TensorboardJob.group_id == group_id, TensorboardJob.status.in_(("created", "running"))
        )
    ).all()
    for job in jobs:
        end_job(job)


def end_job(job, message=None):
    """End the job's process if it lives and mark the job stopped (no commit)."""
    if is_live(job):
        control.stop_process(job.pid)
    set_status(job, "stopped", message)


def is_live(job):
    return bool(job.pid) and tensorboard.is_tensorboard(job.pid, job.port)


def _stop_unprotected(job):
    """Stop a running job started before TensorBoards had a secret prefix (no commit)."""
    end_job(job, UNPROTECTED)


def proxy_target(access, group_id):
    """The ProxyTarget of the group's running TensorBoard; NotFound if none runs.

    Records the visit (at most once a minute) so the idle stop leaves it alone. A job started
    before TensorBoards had a secret prefix is stopped here: it must be started again.
    """
    group = load_group(access, group_id)
    return serve(
        _latest(group.id),
        stale="This group's TensorBoard was started before an upgrade and has been "
        "stopped: start it again from the group page.",
        missing="This group's TensorBoard is not running: start it from the group page.",
    )


def serve(job, *, stale, missing):
    """The job's ProxyTarget, its visit recorded; NotFound(missing) unless it runs, and
    NotFound(stale) for a job without a secret prefix, stopped here."""
    if job is not None and job.status == "running" and job.path_secret is None:
        _stop_unprotected(job)
        db.session.commit()
        raise NotFound(stale)
    if job is None or job.status != "running" or not job.port:
        raise NotFound(missing)
    now = utcnow()
    if job.last_used_at is None or now - job.last_used_at > timedelta(minutes=1):
        job.last_used_at = now
        db.session.commit()
    return ProxyTarget(job.host, job.port, job.path_secret)


def fail_exited():
    """Mark `failed` the running TensorBoards whose process is gone (crashed), and stop those
    started without a secret prefix; no commit.

    Like the idle stop, this looks at this machine's processes: TensorBoards run beside the
    dashboard, and its worker runs there too.
    """
    jobs = db.session.scalars(
        select(TensorboardJob).where(TensorboardJob.status == "running")
    ).all()
    for job in jobs:
        if job.path_secret is None:
            _stop_unprotected(job)
        elif not is_live(job):
            set_status(job, "failed", "The TensorBoard process exited.")


def stop_idle(idle_seconds):
    """Stop running TensorBoards nobody opened for idle_seconds (after fail_exited); returns
    how many stopped for idleness."""
    fail_exited()
    cutoff = utcnow() - timedelta(seconds=idle_seconds)
    jobs = db.session.scalars(
        select(TensorboardJob).where(
            TensorboardJob.status == "running",
            func.coalesce(TensorboardJob.last_used_at, TensorboardJob.started_at) < cutoff,
        )
    ).all()
    for job in jobs:
        end_job(job, f"Stopped after {int(idle_seconds)} s without a visit.")
    db.session.commit()
    return len(jobs)
