"""Start real TensorBoard processes and tell them apart (plain functions: no Flask, no database);
they are stopped as any process group is (control.stop_process)."""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dashboard.processes.control import POLL_INTERVAL, is_alive

# The legacy loader starts faster here, spawns no data-server child (so no second listening
# port) and prints no advisory note; TensorBoard itself makes no outbound requests.
QUIET_FLAGS = ("--load_fast=false",)


@dataclass(frozen=True)
class TensorboardProcess:
    """A started TensorBoard: its process id (also its process-group id) and address."""

    pid: int
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}/"


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on `host` that nothing listens on right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_tensorboard(
    logdir: Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    log_path: Path | None = None,
    path_prefix: str | None = None,
    runs: dict[str, Path] | None = None,
) -> TensorboardProcess:
    """Launch TensorBoard in its own process group; do not wait for it to serve.

    It reads `logdir`, or with `runs` ({name: folder}) only those folders, each shown as its
    name (`--logdir_spec`; a folder that does not exist yet shows no runs).
    """
    if runs is None:
        logdir = Path(logdir)
        logdir.mkdir(parents=True, exist_ok=True)
        source = ["--logdir", str(logdir)]
    else:
        source = ["--logdir_spec", logdir_spec(runs)]
    if port is None:
        port = free_port(host)
    command = [
        *_tensorboard_command(),
        *source,
        "--host", host,
        "--port", str(port),
        *QUIET_FLAGS,
        *(["--path_prefix", path_prefix.rstrip("/")] if path_prefix else []),
    ]  # fmt: skip
    with contextlib.ExitStack() as stack:
        output = subprocess.DEVNULL
        if log_path is not None:
            output = stack.enter_context(open(log_path, "ab"))
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Callers keep only the pid, and is_alive/stop_process reap it. Left with returncode None,
    # this Popen would raise a ResourceWarning when collected and queue the child for reaping.
    process.returncode = 0
    _wait_for_exec(process.pid)
    return TensorboardProcess(pid=process.pid, host=host, port=port)


def logdir_spec(runs):
    """TensorBoard's `name:path,name:path` for {name: folder}; names are plain words and the
    folders absolute, and neither may hold a comma (the spec's separator)."""
    parts = []
    for name, folder in runs.items():
        folder = str(Path(folder).resolve())
        if "," in folder or not name.replace("-", "").isalnum():
            raise ValueError(f"cannot name {name}:{folder} in a TensorBoard logdir spec")
        parts.append(f"{name}:{folder}")
    return ",".join(parts)


def _wait_for_exec(pid, timeout=5.0):
    """Wait (milliseconds, usually) until the child's command line shows the new program."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_alive(pid):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().strip(b"\0"):
                return
        except OSError:
            return
        time.sleep(0.005)


def wait_until_serving(
    host: str, port: int, timeout: float = 30.0, *, pid: int | None = None
) -> bool:
    """Poll until an HTTP GET on / answers; False at the deadline or once `pid` has died."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if _answers_http(host, port, timeout=min(remaining, 2.0)):
            return True
        if pid is not None and not is_alive(pid):
            return False
        time.sleep(POLL_INTERVAL)


def is_tensorboard(pid: int, port: int | None = None) -> bool:
    """Whether pid is a live TensorBoard (on port, if given): a stored pid may have been reused."""
    if not is_alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    launcher = argv[:3]  # python -m tensorboard.main, or the tensorboard script (maybe via python)
    if not any(
        Path(part.decode(errors="replace")).name in ("tensorboard", "tensorboard.main")
        for part in launcher
    ):
        return False
    return port is None or str(port).encode() in argv


def _tensorboard_command():
    script = Path(sys.executable).with_name("tensorboard")
    if os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "tensorboard.main"]


def _url_host(host):
    return f"[{host}]" if ":" in host else host


def _answers_http(host, port, timeout):
    # http.client rather than urllib: urllib would route loopback through an http_proxy setting.
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True
