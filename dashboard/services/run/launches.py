"""Preparing a claimed experiment to run: its command, its folder, its code and its own key.

The runner calls `prepare_launch` for each experiment it claimed, then starts the process on
its machine (the local worker) or sends it to a Celery worker: how the process runs is the
runner's, what it runs is decided here.
"""

from dataclasses import dataclass
from pathlib import Path

from dashboard.errors import public_reason
from dashboard.extensions import db
from dashboard.hptuning import SpecError, render_cmd, run_cmd_of
from dashboard.models import Experiment, ExperimentGroup, Project
from dashboard.services.experiment import credentials
from dashboard.services.run import claims, runs
from dashboard.services.run.clone_outputs import launch_code, launch_outputs
from dashboard.storage import paths
from dashboard.storage.code import code_folder

MAX_CACHED_COMMANDS = 1000


@dataclass(frozen=True)
class PreparedLaunch:
    """A claimed experiment marked starting, its key issued and committed; `folder` (the
    experiment's own), `outputs` (where it writes: a resume, its original's) and `code` (None:
    the project has none) are absolute paths."""

    experiment: Experiment
    group: ExperimentGroup
    project: Project
    key: str
    command: str
    folder: Path
    code: Path | None
    outputs: Path


class RunCommands:
    """Each group's run.cmd, read once, not per experiment: its content never changes (rendering
    it is bounded by the renderer's limits, see hptuning.templates). At most `limit` groups."""

    def __init__(self, limit=MAX_CACHED_COMMANDS):
        self.limit = limit
        self.commands = {}  # (group id, created at) -> its run.cmd

    def of(self, group):
        """The group's run.cmd (a string or a list of them)."""
        key = (group.id, group.created_at)
        if key not in self.commands:
            if len(self.commands) >= self.limit:
                self.commands.clear()
            self.commands[key] = run_cmd_of(group.content)
        return self.commands[key]


def prepare_launch(experiment_id, *, outputs_root, commands=None):
    """Mark the claimed experiment starting and prepare its launch (None if it cannot start).

    Renders the command (from `commands`, a RunCommands the caller keeps), makes the outputs
    folder, finds the project's code and issues the experiment's key, then commits. An
    experiment that cannot start is marked failed; a deleted one is left alone; one whose group
    was paused since it was claimed is pending again.
    """
    details = runs.launch_details(experiment_id)
    if details is None:
        return None
    experiment, group, project = details
    if group.status == "paused":  # paused since the claim: it waits with its group
        claims.release(experiment.worker, [experiment_id])
        return None
    folder = paths.experiment_dir(
        outputs_root, project.owner.username, project.name, group.id, experiment.id
    )
    runs.mark(experiment_id, "starting")
    try:
        command = render_cmd((commands or RunCommands()).of(group), experiment.params)
        if isinstance(command, list):
            command = " && ".join(command)
        outputs = launch_outputs(experiment, group, project, folder, outputs_root)
        upload = launch_code(experiment, project)
        code = code_folder(upload.path if upload else None, folder, outputs_root)
    except (SpecError, OSError) as exc:
        runs.mark(experiment_id, "failed", f"The experiment could not start: {public_reason(exc)}")
        return None
    key = credentials.issue_experiment_token(experiment)
    db.session.commit()
    return PreparedLaunch(
        experiment=experiment,
        group=group,
        project=project,
        key=key,
        command=command,
        folder=folder,
        code=code,
        outputs=outputs,
    )
