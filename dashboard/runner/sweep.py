"""Removing folders nobody needs any more, in a thread beside the scheduler's round.

Every OUTPUTS_SWEEP_SECONDS the scheduler starts a sweep (never two at once) that looks under
the outputs root for:

- the folders of deleted groups (`<owner>/<project>/groups/<id>/` whose group has no row).
  Deleting a group deletes its rows at once and leaves its processes to the workers: a local
  worker kills those of gone experiments in its next round, a Celery worker at its next
  heartbeat (both within STOP_GRACE_SECONDS), and a worker silent for WORKER_TIMEOUT_SECONDS
  is lost. So a folder goes only once it has been seen without its group for longer than all
  of that (`grace`): by then nothing writes there any more.
- staging folders of uploads a killed web process abandoned (`<owner>/<project>/code/incoming-*`),
  once untouched for STAGING_TIMEOUT seconds.

At most `batch` folders go per sweep, the rest at the next one. Folders are listed before the
database is asked which groups exist: a group's folder is made after its row is committed, so a
listed folder of a live group always finds its row.
"""

import os
import time
from pathlib import Path

from flask import current_app

from dashboard.extensions import db
from dashboard.names import is_slug
from dashboard.runner.periodic import Periodic
from dashboard.services.run import runs
from dashboard.storage import paths

STAGING_TIMEOUT = 3600


class Sweeper(Periodic):
    """Sweeps the outputs root of `app` every `every` seconds, each in a thread of its own."""

    name = "outputs-sweep"

    def __init__(self, app, *, every, grace, batch=20):
        super().__init__(app, every=every)
        self.grace = grace
        self.batch = batch
        self.orphans = {}  # folder -> when it was first seen without its group (monotonic)

    def work(self):
        self.sweep()

    def sweep(self):
        """One pass (needs an app context); returns the folders removed."""
        root = Path(self.app.config["OUTPUTS_ROOT"])
        groups, staging = _scan(root)
        present = runs.existing_groups(set(groups.values()))
        db.session.rollback()
        now = time.monotonic()
        self.orphans = {
            folder: self.orphans.get(folder, now)
            for folder, group_id in groups.items()
            if group_id not in present
        }
        due = [folder for folder, seen in self.orphans.items() if now - seen >= self.grace]
        due += [folder for folder in staging if _untouched_for(folder, STAGING_TIMEOUT)]
        removed = []
        for folder in due[: self.batch]:
            if paths.remove_tree(folder):
                removed.append(folder)
                self.orphans.pop(folder, None)
        if removed:
            current_app.logger.info(
                "removed %d unused folders: %s",
                len(removed),
                ", ".join(str(folder) for folder in removed),
            )
        return removed


def _scan(root):
    """({group folder: group id}, [staging folders]) below the outputs root."""
    groups, staging = {}, []
    for owner in _folders(root):
        for project in _folders(owner):
            if not (is_slug(owner.name) and is_slug(project.name)):
                continue
            for folder in _folders(project / "groups"):
                if folder.name.isdigit() and len(folder.name) < 19:
                    groups[folder] = int(folder.name)
            staging += [
                folder
                for folder in _folders(project / "code")
                if folder.name.startswith(paths.STAGING_PREFIX)
            ]
    return groups, staging


def _folders(folder):
    """The folders in `folder` (links are not followed; a missing folder has none)."""
    try:
        with os.scandir(folder) as entries:
            return [Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _untouched_for(folder, seconds):
    try:
        return time.time() - folder.stat(follow_symlinks=False).st_mtime > seconds
    except OSError:
        return False
