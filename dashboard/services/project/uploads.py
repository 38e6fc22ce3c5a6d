"""A project's code: the tarball `polyaxon upload` sends, unpacked into a folder of its own.

Each upload gets a new folder (`paths.repo_dir`) and a RepoUpload row; the latest one is the
code every experiment started afterwards runs in (`latest_repo`), bound read-only.

An upload is unpacked with no transaction open, so no write of anyone else waits for it, into a
staging folder beside the uploads' folders (`paths.repo_staging_dir`). Then one short
transaction inserts its row, checks the project's quota again under the project's lock and
renames the folder into place before it commits: a row always has its whole folder, and a
refused or failed upload leaves neither. (A row committed first as "pending" would need a
column, and every reader would have to skip it.) A process killed while unpacking leaves only
its staging folder, which the scheduler's sweep removes (`runner/sweep.py`).

Limits (config): REPO_MAX_MEMBERS and REPO_MAX_UNPACKED_BYTES per upload, and
REPO_PROJECT_QUOTA_BYTES for all the uploads a project keeps. Kept are its REPO_KEEP_UPLOADS
latest uploads and every one an unfinished experiment may run in. An experiment records its
upload when it starts (`code_upload_id`), and a clone made to run its original's code records
it when it is made; one claimed (scheduled, starting or running) before it was recorded runs in
the upload that was latest when it started or a later one, so every upload from the one latest
when the project's oldest claimed experiment was created is kept, and so is every upload an
unfinished experiment records. Other experiments not yet claimed will take the latest upload.
A finished experiment's upload may go: a restart, resume or copy of it then runs the latest
upload. The others are pruned after each upload: folder first, then row.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, select

from dashboard.errors import field_error
from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, Project, RepoUpload
from dashboard.models.statuses import EXPERIMENT_STATUSES, RUNNING_EXPERIMENT_STATUSES
from dashboard.storage import paths
from dashboard.storage.unpack import TooLarge, UnsafeArchive, unpack_tarball

# Upload and experiment times come from the clocks of different processes (or machines).
CLOCK_SLACK = timedelta(minutes=1)
MIB = 1024 * 1024


def latest_repo(project):
    """The project's latest upload, or None."""
    return db.session.scalars(
        select(RepoUpload)
        .where(RepoUpload.project_id == project.id)
        .order_by(RepoUpload.id.desc())
        .limit(1)
    ).first()


def upload_repo(access, fileobj):
    """Unpack an uploaded tarball as the project's new code (member and up), then prune."""
    access.require("upload_repo")
    if fileobj is None:
        raise field_error("repo", "This field is required: the code as a .tar.gz file.")
    config = current_app.config
    project = access.project
    place = (project.owner.username, project.name)
    project_id, user_id = project.id, access.actor.id
    cap, quota = config["REPO_MAX_UNPACKED_BYTES"], config["REPO_PROJECT_QUOTA_BYTES"]
    # What stays besides this upload once it is in: the latest but one, and those in use.
    used = _bytes(_kept(project_id, _keep() - 1))
    if used >= quota:
        raise field_error(
            "repo", "No room is left in the project's code quota: " + _quota_message(quota, used)
        )
    db.session.rollback()  # no transaction stays open while unpacking
    staging = paths.repo_staging_dir(config, *place, secrets.token_hex(8))
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        size = unpack_tarball(
            fileobj,
            staging,
            max_members=config["REPO_MAX_MEMBERS"],
            max_bytes=min(cap, quota - used),
        )
    except UnsafeArchive as exc:
        _discard(staging)
        raise _refusal(exc, cap, quota, used) from None
    try:
        upload = _put_in_place(project_id, user_id, place, staging, size)
    except BaseException:
        db.session.rollback()
        _discard(staging)
        raise
    prune_uploads(project_id, place)
    return upload


def _refusal(exc, cap, quota, used):
    """The ValidationError for a refused archive; a size names the limit it passed."""
    if not isinstance(exc, TooLarge):
        return field_error("repo", str(exc))
    if exc.max_bytes == cap:
        return field_error(
            "repo",
            f"'{exc.member}': the unpacked code is larger than the "
            f"limit of {_amount(cap)} per upload.",
        )
    return field_error(
        "repo",
        f"'{exc.member}': the unpacked code is larger than the "
        f"{_amount(exc.max_bytes)} left in the project's code quota: "
        + _quota_message(quota, used),
    )


def _discard(staging):
    """Remove a staging folder, and the project's folders it leaves empty (a refused first
    upload leaves nothing; whoever writes there next makes them again)."""
    paths.remove_tree(staging)
    for folder in list(staging.parents)[:3]:  # code/, the project's, the owner's
        try:
            folder.rmdir()
        except OSError:
            break


def _put_in_place(project_id, user_id, place, staging, size):
    """Insert the upload's row, check the quota again, rename its folder in place; one commit."""
    config = current_app.config
    # Uploads of one project go one at a time from here (the project's row lock; SQLite's
    # write lock), so two of them cannot both take the quota's last bytes.
    db.session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
    upload = RepoUpload(project_id=project_id, user_id=user_id, path="", size=size)
    db.session.add(upload)
    db.session.flush()
    used = _bytes(_kept(project_id, _keep()))
    quota = config["REPO_PROJECT_QUOTA_BYTES"]
    if used > quota:
        raise field_error(
            "repo",
            "The unpacked code does not fit in the project's code "
            "quota: " + _quota_message(quota, used - size),
        )
    folder = paths.repo_dir(config, *place, upload.id)
    # A folder left by an earlier database with the same ids is not ours to reuse.
    paths.remove_tree(folder)
    os.rename(staging, folder)
    upload.path = str(folder)
    try:
        db.session.commit()
    except BaseException:
        paths.remove_tree(folder)
        raise
    return upload


def prune_uploads(project_id, place):
    """Remove the project's uploads no longer kept: each one's folder, then its row."""
    config = current_app.config
    kept = {row.id for row in _kept(project_id, _keep())}
    stale = db.session.execute(
        select(RepoUpload.id, RepoUpload.path).where(
            RepoUpload.project_id == project_id, RepoUpload.id.not_in(kept)
        )
    ).all()
    db.session.rollback()  # nothing held while folders go
    removed = []
    for upload_id, path in stale:
        folder = paths.repo_dir(config, *place, upload_id)
        # A path elsewhere (code registered by an earlier version) is not ours to remove.
        if Path(path).resolve() != folder or paths.remove_tree(folder):
            removed.append(upload_id)
    if removed:
        db.session.execute(delete(RepoUpload).where(RepoUpload.id.in_(removed)))
        db.session.commit()
    return removed


def _kept(project_id, latest):
    """(id, size) of the project's uploads to keep: its `latest` newest, and every one from the
    one that was latest when its oldest claimed experiment was created (see the docstring)."""
    rows = db.session.execute(
        select(RepoUpload.id, RepoUpload.size, RepoUpload.created_at)
        .where(RepoUpload.project_id == project_id)
        .order_by(RepoUpload.id.desc())
    ).all()
    kept = rows[: max(latest, 0)]
    since = db.session.scalar(
        select(func.min(Experiment.created_at))
        .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
        .where(
            ExperimentGroup.project_id == project_id,
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
        )
    )
    if since is not None:
        current = next((row.id for row in rows if row.created_at <= since - CLOCK_SLACK), 0)
        kept += [row for row in rows[len(kept) :] if row.id >= current]
    recorded = set(
        db.session.scalars(
            select(Experiment.code_upload_id)
            .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
            .where(
                ExperimentGroup.project_id == project_id,
                Experiment.code_upload_id.is_not(None),
                Experiment.status.not_in(EXPERIMENT_STATUSES.final),
            )
            .distinct()
        )
    )
    ids = {row.id for row in kept}
    kept += [row for row in rows if row.id in recorded and row.id not in ids]
    return kept


def _keep():
    return max(current_app.config["REPO_KEEP_UPLOADS"], 1)  # the latest is never pruned


def _bytes(rows):
    return sum(row.size for row in rows)


def _amount(size):
    return f"{size // MIB} MiB" if size >= MIB and size % MIB == 0 else f"{size} bytes"


def _quota_message(quota, used):
    return (
        f"it is {_amount(quota)} for all the uploads the project keeps, and its earlier "
        f"uploads that stay (the latest ones, and those its running experiments use) "
        f"hold {_amount(used)}."
    )
