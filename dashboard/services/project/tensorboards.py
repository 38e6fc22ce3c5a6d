"""Selection TensorBoards: one TensorBoard over chosen experiments of a project (any groups).

The process reads only those experiments' outputs folders, each shown as the run
`experiment-{id}`; it answers under its secret prefix like a group's (services.group.tensorboards,
whose jobs, proxy rules and idle stop it shares) and is opened at
`/tensorboard/<owner>/<project>/selections/<id>/`. The project's list holds both kinds.
"""

from flask import current_app
from sqlalchemy import select

from dashboard.errors import NotFound, ValidationError
from dashboard.extensions import db
from dashboard.ids import MAX_ID
from dashboard.models import Experiment, ExperimentGroup, Project, TensorboardJob
from dashboard.services.group import tensorboards
from dashboard.services.listing import paginate
from dashboard.storage import paths

MAX_SELECTION = 50
FIELD = "experiments"
LIVE = ("created", "running")


def _refuse(message):
    raise ValidationError(message, fields={FIELD: [message]})


def check_ids(ids):
    """The ids, ascending: 400 naming the problem unless 1 to MAX_SELECTION distinct ids."""
    if not isinstance(ids, list | tuple) or not ids:
        _refuse("Choose at least one experiment.")
    if len(ids) > MAX_SELECTION:
        _refuse(f"At most {MAX_SELECTION} experiments in one TensorBoard ({len(ids)} given).")
    bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int) or not 0 < i <= MAX_ID]
    if bad:
        _refuse(f"Not experiment ids: {', '.join(str(i)[:30] for i in bad[:5])}.")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        _refuse(f"Experiments given twice: {', '.join(map(str, repeated))}.")
    return sorted(ids)


def _outputs(access, ids):
    """{run name: outputs folder} of the experiments, which must all be the project's (400
    naming the others: an id of another project says no more than a missing one)."""
    found = experiment_groups(access, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        _refuse(f"No experiment {', '.join(map(str, missing))} in this project.")
    project = access.project
    return {
        f"experiment-{i}": paths.experiment_outputs_dir(
            current_app.config, project.owner.username, project.name, found[i], i
        )
        for i in ids
    }


def start_selection(access, experiment_ids):
    """Start a TensorBoard over the chosen experiments; returns (job, created). The same
    selection already running is returned as is."""
    access.require("tensorboard")
    ids = check_ids(experiment_ids)
    runs = _outputs(access, ids)
    # Selections of one project start one at a time from here (the project's row, as uploads
    # lock it), so two starts of the same selection cannot both find none running. On SQLite
    # this FOR UPDATE takes the database's write lock (BEGIN IMMEDIATE, dashboard/__init__.py).
    db.session.execute(
        select(Project.id).where(Project.id == access.project.id).with_for_update(key_share=True)
    )
    running = db.session.scalars(
        select(TensorboardJob)
        .where(
            TensorboardJob.project_id == access.project.id,
            TensorboardJob.group_id.is_(None),
            TensorboardJob.status == "running",
            TensorboardJob.experiment_ids == ids,
        )
        .order_by(TensorboardJob.id.desc())
    ).all()
    for job in running:
        if tensorboards.reuse_running(job):
            return job, False
    job = tensorboards.new_job(access, experiment_ids=ids)
    log_dir = paths.selections_dir(
        current_app.config, access.project.owner.username, access.project.name
    )
    log_dir.mkdir(parents=True, exist_ok=True)
    tensorboards.launch(job, access.project, runs=runs, log_path=log_dir / f"{job.id}.log")
    db.session.commit()
    return job, True


def list_tensorboards(access, *, limit, offset, running=False):
    """A page of the project's TensorBoard jobs (groups' and selections'), newest first, as
    rows (job, its group's name or None); with `running`, only the running ones."""
    stmt = (
        select(TensorboardJob, ExperimentGroup.name)
        .outerjoin(ExperimentGroup, ExperimentGroup.id == TensorboardJob.group_id)
        .where(TensorboardJob.project_id == access.project.id)
        .order_by(TensorboardJob.id.desc())
    )
    if running:
        stmt = stmt.where(TensorboardJob.status == "running")
    return paginate(stmt, limit, offset)


def experiment_groups(access, ids):
    """{experiment id: its group's id} of those of the ids still in the project (one query;
    none for no ids): where a selection's experiments are shown."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Experiment.id, Experiment.group_id)
        .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
        .where(Experiment.id.in_(sorted(ids)), ExperimentGroup.project_id == access.project.id)
    ).all()
    return dict(rows)


def get_tensorboard(access, job_id, *, for_update=False):
    """The project's TensorBoard job with this id (a group's or a selection's), or NotFound."""
    stmt = select(TensorboardJob).where(
        TensorboardJob.id == job_id, TensorboardJob.project_id == access.project.id
    )
    if for_update:
        stmt = stmt.with_for_update(of=TensorboardJob)
    job = db.session.execute(stmt).scalar_one_or_none()
    if job is None:
        raise NotFound()
    return job


def stop_job(access, job_id):
    """Stop the project's TensorBoard job; nothing to do if it is not running. A group's job
    stops through its group (services.group.tensorboards.stop_tensorboard): same lock, event."""
    access.require("tensorboard")
    job = get_tensorboard(access, job_id)
    if job.group_id is not None:
        if job.status in LIVE:
            tensorboards.stop_tensorboard(access, job.group_id)
        return job
    job = get_tensorboard(access, job_id, for_update=True)
    if job.status in LIVE:
        tensorboards.end_job(job)
    db.session.commit()
    return job


def proxy_target(access, job_id):
    """The ProxyTarget of the selection's running TensorBoard; NotFound if it does not run."""
    job = db.session.execute(
        select(TensorboardJob).where(
            TensorboardJob.id == job_id,
            TensorboardJob.project_id == access.project.id,
            TensorboardJob.group_id.is_(None),
        )
    ).scalar_one_or_none()
    return tensorboards.serve(
        job,
        stale="This TensorBoard was started before an upgrade and has been stopped.",
        missing="This TensorBoard is not running: open it again from the compare page.",
    )
