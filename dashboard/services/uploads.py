"""A project's code: the tarball `polyaxon upload` sends, unpacked into a folder of its own.

Each upload gets a new folder (`paths.repo_dir`) and a RepoUpload row; the latest one is the
code every experiment started afterwards runs in (`latest_repo`). Earlier uploads are kept on
disk, so experiments already running keep the code they started with.
"""

import shutil

from flask import current_app
from sqlalchemy import select

from dashboard.errors import field_error
from dashboard.extensions import db
from dashboard.models import RepoUpload
from dashboard.runner import paths
from dashboard.runner.unpack import MAX_MEMBERS, MAX_UNPACKED_BYTES, UnsafeArchive, unpack_tarball


def latest_repo(project):
    """The project's latest upload, or None."""
    return db.session.scalars(
        select(RepoUpload).where(RepoUpload.project_id == project.id)
        .order_by(RepoUpload.id.desc()).limit(1)
    ).first()


def upload_repo(access, fileobj):
    """Unpack an uploaded tarball as the project's new code (member and up); one commit."""
    access.require("upload_repo")
    if fileobj is None:
        raise field_error("repo", "This field is required: the code as a .tar.gz file.")
    project = access.project
    upload = RepoUpload(project_id=project.id, user_id=access.actor.id, path="", size=0)
    db.session.add(upload)
    db.session.flush()
    folder = paths.repo_dir(current_app.config, project.owner.username, project.name, upload.id)
    # A folder left by an earlier database with the same ids is not ours to reuse.
    shutil.rmtree(folder, ignore_errors=True)
    config = current_app.config
    try:
        upload.size = unpack_tarball(
            fileobj, folder,
            max_members=config.get("REPO_MAX_MEMBERS", MAX_MEMBERS),
            max_bytes=config.get("REPO_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES),
        )
    except UnsafeArchive as exc:
        db.session.rollback()
        raise field_error("repo", str(exc)) from None
    upload.path = str(folder)
    try:
        db.session.commit()
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return upload
