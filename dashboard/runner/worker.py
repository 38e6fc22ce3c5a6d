"""The worker: one loop that advances groups, starts experiments and watches their processes."""

import os
import signal
import socket
import time

from flask import current_app

from dashboard.extensions import db
from dashboard.hptuning import SpecError, parse_group_spec, render_command
from dashboard.runner import paths
from dashboard.runner.code import prepare_code
from dashboard.runner.environment import experiment_env
from dashboard.runner.process import base_environment, pid_alive, spawn, tail
from dashboard.services import credentials, runs, tensorboards
from dashboard.tensorboard_process import stop_process


class Worker:
    """Runs experiments of every group on this machine, up to `capacity` at once."""

    def __init__(self, *, capacity=None, poll=None):
        config = current_app.config
        self.host = socket.gethostname()
        self.name = f"{self.host}:{os.getpid()}"
        self.capacity = capacity or config["WORKER_CAPACITY"]
        self.poll = poll if poll is not None else config["WORKER_POLL_SECONDS"]
        self.grace = config["STOP_GRACE_SECONDS"]
        self.timeout = config["WORKER_TIMEOUT_SECONDS"]
        self.api_url = config["DASHBOARD_URL"].rstrip("/")
        self.outputs_root = config["OUTPUTS_ROOT"]
        self.tensorboard_idle = config["TENSORBOARD_IDLE_SECONDS"]
        self.processes = {}  # experiment id -> Popen
        self.stopping = False

    def run(self):
        """Loop until SIGTERM/SIGINT, then stop this worker's experiments."""
        signal.signal(signal.SIGTERM, self._request_exit)
        signal.signal(signal.SIGINT, self._request_exit)
        current_app.logger.info("worker %s started", self.name)
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
        """One round: heartbeat, recover lost work, advance groups, watch and start processes."""
        runs.heartbeat(self.name, self.host, os.getpid())
        for _, pid, host in runs.lost_experiments(timeout=self.timeout, host=self.host,
                                                  alive=pid_alive):
            if host == self.host and pid:
                # Its leader died with the old worker; its children may live on in the group.
                stop_process(pid, timeout=self.grace)
        self._collect_finished()
        self._stop_requested()
        runs.advance_groups()
        tensorboards.stop_idle(self.tensorboard_idle)
        free = self.capacity - len(self.processes)
        if free > 0:
            for experiment_id in runs.claim_experiments(self.name, free):
                self._start(experiment_id)
        db.session.remove()

    def _start(self, experiment_id):
        details = runs.launch_details(experiment_id)
        if details is None:
            return
        experiment, group, project = details
        owner = project.owner.username
        outputs = paths.experiment_outputs_dir(self.outputs_root, owner, project.name, group.id,
                                               experiment.id)
        log_path = paths.experiment_log_path(self.outputs_root, owner, project.name, group.id,
                                             experiment.id)
        runs.mark(experiment_id, "starting")
        try:
            spec = parse_group_spec(group.content, max_experiments=10**9)
            command = render_command(spec, experiment.params)
            if isinstance(command, list):
                command = " && ".join(command)
            outputs.mkdir(parents=True, exist_ok=True)
            workdir = prepare_code(project, outputs.parent / "code")
            key = credentials.issue_experiment_token(experiment)
            db.session.commit()
            env = {**base_environment(), **experiment_env(
                experiment=experiment, group=group, project=project, key=key,
                api_url=self.api_url, outputs_dir=outputs, params=experiment.params)}
            process = spawn(command, cwd=workdir, env=env, log_path=log_path)
        except (SpecError, OSError) as exc:
            runs.mark(experiment_id, "failed", f"The experiment could not start: {exc}")
            return
        self.processes[experiment_id] = process
        if runs.mark(experiment_id, "running", pid=process.pid) is None:
            # Stopped between claim and start: the stop request handler ends it next round.
            current_app.logger.info("experiment %s was stopped while starting", experiment_id)

    def _collect_finished(self):
        for experiment_id, process in list(self.processes.items()):
            code = process.poll()
            if code is None:
                continue
            del self.processes[experiment_id]
            if code == 0:
                runs.mark(experiment_id, "succeeded")
                continue
            details = runs.launch_details(experiment_id)
            last_lines = ""
            if details:
                experiment, group, project = details
                last_lines = tail(paths.experiment_log_path(
                    self.outputs_root, project.owner.username, project.name, group.id,
                    experiment.id))
            runs.mark(experiment_id, "failed", f"Exit code {code}.\n{last_lines}".strip())

    def _stop_requested(self):
        for experiment_id, _ in runs.stop_requests(self.name):
            self._kill(experiment_id)
            runs.mark(experiment_id, "stopped", "Stopped on request.")
        for experiment_id in runs.gone(list(self.processes)):
            self._kill(experiment_id)

    def _kill(self, experiment_id):
        process = self.processes.pop(experiment_id, None)
        if process is not None:
            stop_process(process.pid, timeout=self.grace)
            process.poll()

    def shutdown(self):
        """Stop this worker's processes and mark their experiments failed."""
        for experiment_id in list(self.processes):
            self._kill(experiment_id)
            runs.mark(experiment_id, "failed", "The worker shut down.")
        runs.forget_worker(self.name)
        db.session.remove()
