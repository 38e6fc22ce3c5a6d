"""The project code an experiment runs in: a fresh copy of the latest upload."""

import shutil
from pathlib import Path

from dashboard.services.uploads import latest_repo


def prepare_code(project, destination):
    """Copy the project's latest uploaded code into destination (empty folder if none)."""
    destination = Path(destination)
    if destination.exists():
        shutil.rmtree(destination)
    upload = latest_repo(project)
    if upload is not None and Path(upload.path).is_dir():
        shutil.copytree(upload.path, destination, symlinks=True)
    else:
        destination.mkdir(parents=True)
    return destination
