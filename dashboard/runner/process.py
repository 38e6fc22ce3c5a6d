"""Experiment processes: each in its own process group, dying with the worker that started it."""

import ctypes
import os
import signal
import subprocess
import sys
from collections import deque
from pathlib import Path

from dashboard.safe_files import open_regular

PR_SET_PDEATHSIG = 1
SAFE_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL")


def _die_with_parent():
    """In the child: ask the kernel to SIGKILL us when the worker dies (even by kill -9)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def base_environment():
    """The worker's environment minus its secrets, with its Python first on PATH."""
    env = {key: os.environ[key] for key in SAFE_ENVIRONMENT if key in os.environ}
    python_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([python_bin, env.get("PATH", "/usr/bin:/bin")])
    return env


def spawn(command, *, cwd, env, log_path):
    """Run a shell command in a new session (its own process group), output to log_path."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            ["/bin/bash", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def disk_full(path, low=64 * 1024):
    """A message if the disk holding path (or its nearest existing parent) is full, else ''.

    A process that could not write its output usually could not write why either.
    """
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        stat = os.statvfs(path)
    except OSError:
        return ""
    if stat.f_bavail * stat.f_frsize >= low:
        return ""
    return f"No space left on device: the disk holding {path} is full."


def exit_message(code, log_path):
    """Why a process failed: its exit code, a full disk when that is the cause, its last lines."""
    summary = " ".join(filter(None, [f"Exit code {code}.", disk_full(log_path)]))
    return f"{summary}\n{tail(log_path)}".strip()


def tail(path, lines=20, max_bytes=64 * 1024):
    """The last lines of a log file ('' if there is none)."""
    try:
        # The experiment may have left a FIFO or a link there: open() must not wait or follow.
        handle = open_regular(path)
        if handle is None:
            return ""
        with handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - max_bytes))
            data = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(deque(data.splitlines(), maxlen=lines))


def pid_alive(pid):
    """Whether a process with this pid exists on this host."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
