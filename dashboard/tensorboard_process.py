"""Start and stop real TensorBoard processes (plain functions: no Flask, no database)."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

POLL_INTERVAL = 0.05
# After SIGKILL the kernel needs a moment to tear the processes down; bound that wait too.
KILL_GRACE = 5.0
PROC = Path("/proc")
DEAD_STATES = ("Z", "X")  # zombie, dead
STATE, PGRP = 0, 2  # fields of /proc/<pid>/stat after the command name

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
) -> TensorboardProcess:
    """Launch TensorBoard over `logdir` in its own process group; do not wait for it to serve."""
    logdir = Path(logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    if port is None:
        port = free_port(host)
    command = [
        *_tensorboard_command(),
        "--logdir", str(logdir),
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


def is_alive(pid: int) -> bool:
    """Whether `pid` runs; zombies count as dead (and our own exited children are reaped)."""
    if pid <= 0:
        return False
    try:
        reaped_pid, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return _running(pid)  # not our child
    return reaped_pid == 0


def is_tensorboard(pid: int, port: int | None = None) -> bool:
    """Whether pid is a live TensorBoard (on port, if given): a stored pid may have been reused."""
    if not is_alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    launcher = argv[:3]  # python -m tensorboard.main, or the tensorboard script (maybe via python)
    if not any(Path(part.decode(errors="replace")).name in ("tensorboard", "tensorboard.main")
               for part in launcher):
        return False
    return port is None or str(port).encode() in argv


def stop_process(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group of `pid`, SIGKILL it after `timeout`; no error if it is gone."""
    if pid <= 0 or pid == os.getpgrp():
        raise ValueError(f"refusing to signal process group {pid}")
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, KILL_GRACE)):
        if not _signal_group(pid, sig):
            break
        if _wait_group_gone(pid, wait):
            break
    _reap(pid)


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


def _signal_group(pgid, sig):
    """Send `sig` to the group; False if no process is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _wait_group_gone(pgid, timeout):
    deadline = time.monotonic() + timeout
    while True:
        _reap(pgid)
        if not _group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


def _reap(pid):
    with contextlib.suppress(ChildProcessError):  # not our child, or already reaped
        os.waitpid(pid, os.WNOHANG)


def _group_alive(pgid):
    """Whether any live process is in group `pgid` (a zombie leader keeps the group id)."""
    if not PROC.is_dir():
        return _signal_group(pgid, 0)
    return any(
        _stat_field(entry, PGRP) == str(pgid) and _running(entry.name)
        for entry in PROC.iterdir()
        if entry.name.isdigit()
    )


def _running(pid):
    """Whether `pid` (not our child) exists and is not a zombie."""
    if not PROC.is_dir():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # it exists, owned by another user
        return True
    # A leader shows "Z" as soon as its own thread exits while its other threads may still
    # run (and hold its sockets): the process lives until every thread is dead.
    try:
        threads = list((PROC / str(pid) / "task").iterdir())
    except FileNotFoundError:
        return False
    return any(_stat_field(thread, STATE) not in (None, *DEAD_STATES) for thread in threads)


def _stat_field(directory, index):
    """One field of `directory`/stat, counted from the one after the command name."""
    try:
        stat = (directory / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may contain spaces and parentheses; it ends at the last ")".
    return stat[stat.rindex(")") + 2 :].split()[index]
