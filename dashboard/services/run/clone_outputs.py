"""The outputs folder a launched experiment writes into, and the code it runs.

A new experiment and a restart get an empty folder of their own; a copy gets its own folder
holding a copy of its original's outputs, bounded (OUTPUTS_COPY_MAX_BYTES, OUTPUTS_COPY_SECONDS:
the scheduler's round waits for it); a resume writes into the folder its original wrote into,
the one folder its sandbox may write (its log stays in its own folder).
"""

import time

from flask import current_app

from dashboard.extensions import db
from dashboard.models import Experiment, RepoUpload
from dashboard.services.experiment.restarts import outputs_owner
from dashboard.services.project.uploads import latest_repo
from dashboard.storage import paths, safe_files

MAX_COPIED_FILES = 100_000


def launch_outputs(experiment, group, project, folder, outputs_root):
    """Make the outputs folder `experiment` (whose own folder is `folder`) writes into and
    return it; a copy's is filled first. OSError (CopyRefused saying why) if it cannot be."""
    place = (outputs_root, project.owner.username, project.name, group.id)
    if experiment.cloning_strategy == "resume":
        outputs = paths.experiment_outputs_dir(*place, outputs_owner(experiment))
        outputs.mkdir(parents=True, exist_ok=True)
        return outputs
    outputs = folder / "outputs"
    if experiment.cloning_strategy == "copy" and experiment.original_experiment_id:
        original = db.session.get(Experiment, experiment.original_experiment_id)
        if original is not None:
            _copy(paths.experiment_outputs_dir(*place, outputs_owner(original)), outputs)
            return outputs
    outputs.mkdir(parents=True, exist_ok=True)
    return outputs


def _copy(source, outputs):
    config = current_app.config
    db.session.commit()  # no snapshot held while files are copied (nothing is pending here)
    paths.remove_tree(outputs)  # nothing of an earlier attempt stays
    try:
        safe_files.copy_tree(
            source,
            outputs,
            max_bytes=config["OUTPUTS_COPY_MAX_BYTES"],
            max_files=MAX_COPIED_FILES,
            deadline=time.monotonic() + config["OUTPUTS_COPY_SECONDS"],
        )
    except safe_files.CopyRefused as exc:
        paths.remove_tree(outputs)
        raise safe_files.CopyRefused(f"its original's outputs could not be copied: {exc}") from None


def launch_code(experiment, project):
    """The upload `experiment` runs, recorded on it: the one it was given (a clone running its
    original's code) if it is still kept, else the project's latest (None: no code)."""
    upload = None
    if experiment.code_upload_id is not None:
        upload = db.session.get(RepoUpload, experiment.code_upload_id)
    upload = upload or latest_repo(project)
    experiment.code_upload_id = upload.id if upload else None
    return upload
