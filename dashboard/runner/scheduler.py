"""The scheduler's round, shared by both runners: the local one and the Celery dispatcher.

Each round: heartbeat, recover lost work, handle finished and stopped experiments, advance the
groups (hyperband and bo iterations are worked out in a process of their own, `searches.py`,
and picked up in a later round), stop idle TensorBoards, start a sweep of unused folders (in a
thread of its own, `sweep.py`), send due webhook deliveries (another thread, `webhooks.py`),
then claim pending experiments (within each group's concurrency)
and hand each one to `launch`.
"""

import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from dashboard.extensions import db
from dashboard.runner.environment import experiment_env
from dashboard.runner.searches import Searches
from dashboard.runner.sweep import Sweeper
from dashboard.runner.webhooks import Deliverer
from dashboard.services.group import tensorboards
from dashboard.services.run import advance, claims, launches, runs

LAUNCH_BUDGET_SECONDS = 1.0  # per round, beyond each group's first launch


@dataclass(frozen=True)
class Launch:
    """Everything needed to run one experiment; `folder` (its own) and `outputs` (where it
    writes: a resume, its original's) are relative to the outputs root."""

    experiment_id: int
    uuid: str
    command: str
    folder: Path
    code: Path | None
    env: dict
    outputs: Path
    gpus: dict | None = None  # {"worker", "ids"} it was placed on


class Scheduler:
    """A loop of rounds until SIGTERM/SIGINT; subclasses say how experiments run."""

    lost_message = runs.LOST_PROCESS

    def __init__(self, *, capacity=None, poll=None):
        config = current_app.config
        self.host = socket.gethostname()
        self.name = f"{self.host}:{os.getpid()}"
        self.pid = os.getpid()  # 0: judged by its heartbeats alone, never by a pid
        self.capacity = capacity or config["WORKER_CAPACITY"]
        self.poll = poll if poll is not None else config["WORKER_POLL_SECONDS"]
        self.grace = config["STOP_GRACE_SECONDS"]
        self.timeout = config["WORKER_TIMEOUT_SECONDS"]
        self.api_url = config["DASHBOARD_URL"].rstrip("/")
        self.outputs_root = config["OUTPUTS_ROOT"]
        self.tensorboard_idle = config["TENSORBOARD_IDLE_SECONDS"]
        # A deleted group's folder goes once every worker has had time to kill its processes.
        grace = self.timeout + self.grace + config["CELERY_HEARTBEAT_SECONDS"]
        self.sweeper = Sweeper(
            current_app._get_current_object(), every=config["OUTPUTS_SWEEP_SECONDS"], grace=grace
        )
        self.deliverer = Deliverer(current_app._get_current_object())
        self.commands = launches.RunCommands()  # each group's run.cmd, read once
        self.searches = Searches(
            timeout=config["SEARCH_TIMEOUT_SECONDS"], memory=config["SEARCH_MEMORY_MB"] * 2**20
        )
        self.gpus = []  # the GPU ids it declares (the local worker's)
        self.stopping = False

    def run(self):
        """Loop until SIGTERM/SIGINT, then shut down."""
        signal.signal(signal.SIGTERM, self._request_exit)
        signal.signal(signal.SIGINT, self._request_exit)
        current_app.logger.info("%s %s started", type(self).__name__.lower(), self.name)
        try:
            while not self.stopping:
                try:
                    self.tick()
                except Exception:  # a database hiccup must not end the worker
                    current_app.logger.exception("worker round failed; retrying")
                    db.session.rollback()
                    db.session.remove()
                time.sleep(self.poll)
        finally:
            self.shutdown()

    def _request_exit(self, signum, frame):
        self.stopping = True

    def tick(self):
        """One round (see the module docstring)."""
        runs.heartbeat(self.name, self.host, self.pid, gpus=self.gpus)
        self.recover(
            runs.lost_experiments(
                timeout=self.timeout, host=self.host, alive=self.alive, message=self.lost_message
            )
        )
        self.watch()
        advance.advance_groups(self.searches)
        tensorboards.stop_idle(self.tensorboard_idle)
        self.sweeper.maybe_start()
        self.deliverer.maybe_start()
        free = self.free_slots()
        if free > 0:
            self.launch_claimed(claims.claim_turns(self.name, free, self.gpu_pool()))
        db.session.remove()

    def launch_claimed(self, claimed):
        """Launch claimed experiments in turn order; past LAUNCH_BUDGET_SECONDS only each
        group's first. The rest are pending again for the next round's turns: a group whose
        experiments are slow to prepare (a template at its limits) holds no round for long."""
        deadline = time.monotonic() + LAUNCH_BUDGET_SECONDS
        launched = set()
        later = []
        for experiment_id, group_id in claimed:
            if group_id in launched and time.monotonic() > deadline:
                later.append(experiment_id)
                continue
            launched.add(group_id)
            self.launch(experiment_id)
        claims.release(self.name, later)

    def prepare(self, experiment_id):
        """The claimed experiment's Launch, its environment built here (None if it cannot
        start: see services.run.launches.prepare_launch)."""
        prepared = launches.prepare_launch(
            experiment_id, outputs_root=self.outputs_root, commands=self.commands
        )
        if prepared is None:
            return None
        env = experiment_env(
            experiment=prepared.experiment,
            group=prepared.group,
            project=prepared.project,
            key=prepared.key,
            api_url=self.api_url,
            outputs_dir=prepared.outputs,
            params=prepared.experiment.params,
            gpus=(prepared.experiment.gpus or {}).get("ids"),
        )
        root = Path(self.outputs_root).resolve()
        return Launch(
            experiment_id=experiment_id,
            uuid=prepared.experiment.uuid,
            command=prepared.command,
            folder=prepared.folder.relative_to(root),
            code=prepared.code.relative_to(root) if prepared.code else None,
            env=env,
            outputs=prepared.outputs.relative_to(root),
            gpus=prepared.experiment.gpus,
        )

    # What subclasses provide.
    def alive(self, pid):
        raise NotImplementedError

    def recover(self, lost):
        """Clean up after experiments of vanished workers: (id, pid, host) each."""

    def watch(self):
        """Collect finished experiments and carry out stop requests."""
        raise NotImplementedError

    def free_slots(self):
        raise NotImplementedError

    def gpu_pool(self):
        """The GPUs this runner places experiments on (a placement.GpuPool), None: none."""
        return None

    def launch(self, experiment_id):
        raise NotImplementedError

    def shutdown(self):
        self.searches.close()
        runs.forget_worker(self.name)
        db.session.remove()
