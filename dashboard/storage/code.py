"""The project code an experiment runs in: its latest upload, bound read-only in its sandbox.

Uploads are unpacked below the outputs root (`paths.repo_dir`), where Celery workers see them
too, and never change once unpacked (a new upload gets a new folder), so an experiment runs in
the upload's own folder, no copy made. An upload kept elsewhere (unpacked by an earlier version
beside the outputs root) is copied into the experiment's folder first.
"""

import shutil
from pathlib import Path


def code_folder(upload_path, experiment_folder, outputs_root):
    """The folder holding the code the experiment runs, from the folder of its project's latest
    upload (None if the project has none)."""
    if upload_path is None or not Path(upload_path).is_dir():
        return None
    source = Path(upload_path).resolve()
    if Path(outputs_root).resolve() in source.parents:
        return source
    destination = Path(experiment_folder) / "code"
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(source, destination, symlinks=True)
    return destination
