"""One experiment on a Celery worker: run exactly as the local runner does, report over HTTP.

No database here. The job (sent by the scheduler, dashboard/runner/dispatch.py) carries the
command, the experiment's environment with its own key, and its folder relative to the outputs
root; that root is shared storage (the same files on every machine, possibly mounted at
another path), so the project's code the job names is there, the log lands where the dashboard
reads it, and outputs where TensorBoard looks. The process is `spawn`ed like the local runner's:
its own process group, killed by the kernel if this worker process dies (PR_SET_PDEATHSIG).

Reports go to the experiment's API with its key: `_runner/start/` (refused unless the
experiment still waits for a worker, so a redelivered task never runs it twice),
`_runner/heartbeat/` every `heartbeat` seconds (answers whether to stop; refused once the
experiment is finished, stopped or deleted), and the final status.

A job placed on GPUs names the worker and the ids (`gpus`); another worker, or one that does
not declare those ids, fails it without running it (its queue is that worker's own, so this
is a misconfiguration: two workers of one name).
"""

import contextlib
import functools
import http.client
import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from dashboard.errors import public_reason
from dashboard.runner.process import end_experiment, exit_message, start_experiment
from dashboard.runner.sandbox import SandboxUnavailable

MAX_MESSAGE = 9000
REFUSED = (401, 403, 404, 409)


class Refused(Exception):
    """The dashboard refused a report: the experiment is gone, finished or not ours."""


class Reporter:
    """POSTs JSON to one experiment's API URL with its key (no proxy: the dashboard is near)."""

    def __init__(self, api_url, key, timeout=10):
        parts = urlsplit(api_url)
        self.https = parts.scheme == "https"
        self.netloc = parts.netloc
        self.path = parts.path.rstrip("/")
        self.key = key
        self.timeout = timeout

    def post(self, path, body):
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        connection = cls(self.netloc, timeout=self.timeout)
        try:
            connection.request(
                "POST",
                f"{self.path}/{path}",
                body=json.dumps(body),
                headers={"Authorization": f"token {self.key}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status in REFUSED:
            raise Refused(f"{response.status} {data[:300].decode(errors='replace')}")
        if response.status >= 300:
            raise OSError(f"the dashboard answered {response.status}")
        return json.loads(data) if data else {}

    def post_retrying(self, path, body, tries=5):
        """post(), retried while the dashboard is unreachable (Refused is not retried)."""
        for attempt in range(tries):
            try:
                return self.post(path, body)
            except (OSError, http.client.HTTPException):
                if attempt == tries - 1:
                    raise
                time.sleep(min(2**attempt, 10))

    def final(self, status, message=None, tries=5):
        """Post the final status, retrying while the dashboard is unreachable."""
        body = {"status": status, "message": message[-MAX_MESSAGE:] if message else None}
        try:
            self.post_retrying("statuses/", body, tries)
        except (Refused, OSError, http.client.HTTPException):
            return False
        return True


def _folder(outputs_root, relative):
    root = Path(outputs_root).resolve()
    folder = (root / relative).resolve()
    if root not in folder.parents:
        raise ValueError(f"{relative} is outside the outputs root")
    return folder


class _Terminate:
    """SIGTERM (a revoke with terminate=True, or a cold shutdown) asks the loop to stop."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def run_job(job, *, worker, outputs_root, grace, heartbeat, sandbox, gpus=()):
    """Run the experiment `job` describes on this worker (which declares the GPU ids `gpus`);
    returns its outcome as a word."""
    placed = job.get("gpus")
    if placed and (placed["worker"] != worker or not set(placed["ids"]) <= set(gpus)):
        env = job["env"]
        Reporter(env["POLYAXON_API_URL"], env["POLYAXON_TOKEN"]).final(
            "failed",
            f"The experiment was placed on GPUs {placed['ids']} of {placed['worker']}; "
            f"{worker} (GPUs {list(gpus)}) does not run it.",
        )
        return "misplaced"
    # SIGTERM is handled from here until the final report is sent: a revoke that lands before
    # the spawn or after the process ended must not kill this worker process mid-report.
    with _Terminate() as terminate:
        return _run(job, worker, outputs_root, grace, heartbeat, sandbox, terminate)


@functools.cache  # once per worker process; a failed check raises, so it is tried again
def _checked(sandbox, outputs_root):
    """Raise SandboxUnavailable unless the sandbox started here once already."""
    sandbox.check(Path(outputs_root) / ".sandbox-check" / socket.gethostname())


def _run(job, worker, outputs_root, grace, heartbeat, sandbox, terminate):
    env = job["env"]
    reporter = Reporter(env["POLYAXON_API_URL"], env["POLYAXON_TOKEN"])
    me = {"worker": worker, "host": socket.gethostname()}
    try:
        folder = _folder(outputs_root, job["folder"])
        code = _folder(outputs_root, job["code"]) if job.get("code") else None
        # A resume writes into its original's outputs (a job of an earlier scheduler: its own).
        outputs = folder / "outputs"
        if job.get("outputs"):
            outputs = _folder(outputs_root, job["outputs"])
        reporter.post_retrying("_runner/start/", me)
    except Refused:
        return "refused"  # stopped, finished or taken by another worker meanwhile
    except ValueError:  # a folder outside the outputs root (its message names server paths)
        reporter.final(
            "failed",
            f"The experiment could not start on {worker}: its folder is outside the outputs root.",
        )
        return "failed"
    log_path = folder / "logs" / "output.log"
    env = {**env, "POLYAXON_RUN_OUTPUTS_PATH": str(outputs)}
    try:
        _checked(sandbox, outputs_root)
        process = start_experiment(
            sandbox, job["command"], folder=folder, code=code, env=env, outputs=outputs
        )
    except (OSError, SandboxUnavailable) as exc:
        reporter.final(
            "failed", f"The experiment could not start on {worker}: {public_reason(exc)}"
        )
        return "failed"
    outcome = _watch(
        process, reporter, {**me, "pid": process.pid}, terminate, grace=grace, heartbeat=heartbeat
    )
    if outcome == "gone":
        return outcome
    if outcome == "limit":
        reporter.final("failed", process.limits.exceeded)
        return "failed"
    if outcome == "stop":
        if _ask_stop(reporter, me, process.pid):
            reporter.final("stopped", "Stopped on request.")
            return "stopped"
        reporter.final("failed", f"The worker {worker} shut down.")
        return "failed"
    if process.returncode == 0:
        reporter.final("succeeded")
        return "succeeded"
    reporter.final("failed", exit_message(process.returncode, log_path, process.limits))
    return "failed"


def _watch(process, reporter, beat, terminate, *, grace, heartbeat):
    """Wait for the process, heartbeating; kill its group on a stop or past its limits. 'exit',
    'stop', 'limit' or 'gone'."""
    next_beat = 0.0
    outcome = "exit"
    while process.poll() is None:
        if terminate.requested:
            outcome = "stop"
        elif outcome == "exit" and process.limits is not None and process.limits.exceeded:
            outcome = "limit"
        if outcome != "exit":
            break
        if time.monotonic() >= next_beat:
            next_beat = time.monotonic() + heartbeat
            try:
                if reporter.post("_runner/heartbeat/", beat).get("stop"):
                    outcome = "stop"
            except Refused:
                outcome = "gone"  # finished elsewhere (lost), stopped while queued, or deleted
            except (OSError, http.client.HTTPException, ValueError):
                pass  # the dashboard is briefly unreachable: keep running
            continue
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.1)
    # Stopped, or its children may outlive it (a crash leaves them orphaned): end them all.
    end_experiment(process, timeout=grace)
    return outcome


def _ask_stop(reporter, me, pid):
    """After a SIGTERM: was it the scheduler's revoke (a stop request) or a worker shutdown?"""
    try:
        return bool(reporter.post("_runner/heartbeat/", {**me, "pid": pid}).get("stop"))
    except (Refused, OSError, http.client.HTTPException, ValueError):
        return False
