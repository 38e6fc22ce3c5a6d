"""Processes the tests start and watch: the dashboard served by `flask run`, workers, and the
machine's processes found by what their environment holds."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.environment import ROOT


def wait_for_http(url, process, timeout):
    """Poll url until it answers 200, the process dies, or the deadline passes."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


class LiveServer:
    """The dashboard served by `flask run` in a subprocess on a free loopback port."""

    def __init__(self, env, port, log_path):
        self.host = "127.0.0.1"
        self.port = port
        self.url = f"http://{self.host}:{port}"
        self.env = env
        self.process = None
        # Its request log goes to a file: an unread pipe would fill and stall the server.
        self.log_path = log_path

    def tail(self, lines=60):
        """The last lines the server wrote (for failure reports)."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cli(self, *args, check=True):
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "flask",
                    "--app",
                    "wsgi",
                    "run",
                    "--host",
                    self.host,
                    "--port",
                    str(self.port),
                    "--with-threads",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_for_http(f"{self.url}/api/v1/versions/cli", self.process, timeout=30):
            self.stop()
            raise RuntimeError(f"the live server did not start:\n{self.tail()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class WorkerProcess:
    """`flask --app wsgi worker` against the live server's database, stopped by PID."""

    def __init__(self, live_server, log_path, **settings):
        self.log_path = log_path
        self.name = log_path.name
        env = dict(live_server.env)
        env.update(
            DASHBOARD_URL=live_server.url,
            WORKER_POLL_SECONDS="0.2",
            WORKER_TIMEOUT_SECONDS="3",
            STOP_GRACE_SECONDS="3",
            **{k: str(v) for k, v in settings.items()},
        )
        # The log goes to a file: an unread pipe would block a worker that logs a lot.
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            self.process.wait(timeout=30)


def stop_and_show(processes):
    """Stop each started process (by PID, its `kill()`), then print the end of its log under
    its name: pytest shows the prints of a failed test."""
    for process in processes:
        process.kill()
        print(f"--- {process.name} ---")
        print(process.log_path.read_text(errors="replace")[-20000:])


def processes_with(text):
    """Pids of the live processes whose environment holds `text` (sandboxed ones included:
    the pids an experiment sees are its own PID namespace's, these are the machine's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if text.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found
