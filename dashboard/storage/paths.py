"""Where things live on disk: the one rule for experiment folders, logs and uploaded code.

    <OUTPUTS_ROOT>/<owner>/<project>/groups/<gid>/experiments/<eid>/      experiment_dir
        outputs/                                                          experiment_outputs_dir
        logs/output.log                                                   experiment_log_path
    <OUTPUTS_ROOT>/<owner>/<project>/tensorboards/<job id>.log            selections_dir
    <OUTPUTS_ROOT>/<owner>/<project>/code/<upload id>/                    repo_dir
    <OUTPUTS_ROOT>/<owner>/<project>/code/incoming-<hex>/                 repo_staging_dir

Every function takes the outputs root itself or an app config holding OUTPUTS_ROOT, and refuses
(ValueError) a path that would leave its root: names are slugs and ids integers, so only a bug
or a forged name can get there.
"""

import contextlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from dashboard.names import is_slug


def _root(config_or_root):
    if isinstance(config_or_root, Mapping):
        config_or_root = config_or_root["OUTPUTS_ROOT"]
    return Path(config_or_root).resolve()


def _inside(root, *parts):
    for part in parts:
        if not (isinstance(part, int) and not isinstance(part, bool)) and not is_slug(str(part)):
            raise ValueError(f"'{part}' is not a safe path component")
    path = root.joinpath(*(str(part) for part in parts)).resolve()
    if path != root and root not in path.parents:
        raise ValueError(f"{path} is outside {root}")
    return path


def group_dir(config_or_root, owner, project_name, group_id):
    """The group's folder: its experiments' folders, and what its TensorBoard reads."""
    return _inside(_root(config_or_root), owner, project_name, "groups", int(group_id))


def selections_dir(config_or_root, owner, project_name):
    """Where the project's selection TensorBoards keep their logs."""
    return _inside(_root(config_or_root), owner, project_name, "tensorboards")


def experiment_dir(config_or_root, owner, project_name, group_id, experiment_id):
    """The experiment's own folder (outputs, logs and the copy of the code live inside)."""
    root = _root(config_or_root)
    return _inside(
        root, owner, project_name, "groups", int(group_id), "experiments", int(experiment_id)
    )


def experiment_outputs_dir(config_or_root, owner, project_name, group_id, experiment_id):
    """Where the experiment writes its outputs (POLYAXON_RUN_OUTPUTS_PATH)."""
    return experiment_dir(config_or_root, owner, project_name, group_id, experiment_id) / "outputs"


def experiment_log_path(config_or_root, owner, project_name, group_id, experiment_id):
    """The file the experiment's stdout and stderr go to."""
    folder = experiment_dir(config_or_root, owner, project_name, group_id, experiment_id)
    return folder / "logs" / "output.log"


def repo_dir(config_or_root, owner, project_name, upload_id):
    """The folder one upload of a project's code is unpacked into: below the outputs root, so
    Celery workers see it, and a folder of its own, so a sandbox can bind it alone."""
    return _inside(_root(config_or_root), owner, project_name, "code", int(upload_id))


STAGING_PREFIX = "incoming-"


def repo_staging_dir(config_or_root, owner, project_name, token):
    """Where an upload is unpacked before it has a row: beside the uploads' folders (one rename
    puts it in place), under a name no upload id can take (`token` is hex)."""
    if not token or any(c not in "0123456789abcdef" for c in token):
        raise ValueError(f"'{token}' is not a hex token")
    return _inside(_root(config_or_root), owner, project_name, "code", STAGING_PREFIX + token)


def remove_tree(path):
    """Remove a folder and all it holds, never following links; True once nothing is left.

    A folder an experiment made read-only is made writable first (its files are the worker's,
    or the sandbox user's when the worker is root, who may remove them anyway).
    """

    def unlock_and_retry(function, name, _):
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), 0o700)
            function(name)

    shutil.rmtree(path, onerror=unlock_and_retry)
    return not os.path.lexists(path)
