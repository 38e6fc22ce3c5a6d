"""The local runner: the scheduler's round plus experiment processes on this machine."""

from pathlib import Path

from flask import current_app

from dashboard.errors import public_reason
from dashboard.runner.gpus import parse_gpus
from dashboard.runner.process import (
    end_experiment,
    exit_message,
    pid_alive,
    start_experiment,
    stop_experiment,
)
from dashboard.runner.sandbox import Sandbox
from dashboard.runner.scheduler import Scheduler
from dashboard.services.run import runs
from dashboard.services.run.placement import GpuPool
from dashboard.storage import paths


class Worker(Scheduler):
    """Runs experiments of every group on this machine, up to `capacity` at once, those asking
    GPUs on `gpus` (default WORKER_GPUS), which are the machine's: placed by host, so a worker
    started after another keeps the ids of its experiments that still run."""

    def __init__(self, *, capacity=None, poll=None, gpus=None):
        super().__init__(capacity=capacity, poll=poll)
        self.gpus = parse_gpus(current_app.config["WORKER_GPUS"]) if gpus is None else gpus
        self.processes = {}  # experiment id -> Popen
        self.sandbox = Sandbox.from_config(current_app.config, share=self.capacity)

    def alive(self, pid):
        return pid_alive(pid)

    def recover(self, lost):
        for _, pid, host in lost:
            if host == self.host and pid:
                # Its leader died with the old worker; its children may live on in the group.
                stop_experiment(pid, timeout=self.grace)

    def watch(self):
        self._collect_finished()
        self._stop_requested()
        self._stop_over_limits()

    def free_slots(self):
        return self.capacity - len(self.processes)

    def gpu_pool(self):
        return GpuPool({self.host: self.gpus})

    def launch(self, experiment_id):
        launch = self.prepare(experiment_id)
        if launch is None:
            return
        root = Path(self.outputs_root).resolve()
        try:
            process = start_experiment(
                self.sandbox,
                launch.command,
                folder=root / launch.folder,
                code=root / launch.code if launch.code else None,
                env=launch.env,
                outputs=root / launch.outputs,
            )
        except OSError as exc:
            runs.mark(
                experiment_id, "failed", f"The experiment could not start: {public_reason(exc)}"
            )
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
            # Its children may outlive it (a crash leaves them orphaned): end its whole group.
            end_experiment(process, timeout=self.grace)
            if code == 0:
                runs.mark(experiment_id, "succeeded")
                continue
            details = runs.launch_details(experiment_id)
            message = f"Exit code {code}."
            if details:
                experiment, group, project = details
                message = exit_message(
                    code,
                    paths.experiment_log_path(
                        self.outputs_root,
                        project.owner.username,
                        project.name,
                        group.id,
                        experiment.id,
                    ),
                    process.limits,
                )
            runs.mark(experiment_id, "failed", message)

    def _stop_requested(self):
        for experiment_id, _ in runs.stop_requests(self.name):
            self._kill(experiment_id)
            runs.mark(experiment_id, "stopped", "Stopped on request.")
        for experiment_id in runs.gone(list(self.processes)):
            self._kill(experiment_id)

    def _stop_over_limits(self):
        for experiment_id, process in list(self.processes.items()):
            if process.limits is not None and process.limits.exceeded:
                self._kill(experiment_id)
                runs.mark(experiment_id, "failed", process.limits.exceeded)

    def _kill(self, experiment_id):
        process = self.processes.pop(experiment_id, None)
        if process is not None:
            end_experiment(process, timeout=self.grace)

    def shutdown(self):
        """Stop this worker's processes and mark their experiments failed."""
        for experiment_id in list(self.processes):
            self._kill(experiment_id)
            runs.mark(experiment_id, "failed", "The worker shut down.")
        super().shutdown()
