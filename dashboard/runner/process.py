"""Experiment processes: each in its own process group, dying with the worker that started it,
within the limits of its sandbox (limits.py)."""

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

from dashboard.experiment_keys import mask_keys
from dashboard.processes.control import KILL_GRACE, PROC, running, stat_field, stop_process
from dashboard.runner.sandbox import gpu_devices
from dashboard.storage.safe_files import open_regular

PR_SET_PDEATHSIG = 1
PPID, STARTTIME = 1, 19  # fields of /proc/<pid>/stat after the command name
SAFE_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL")


def _in_child(limits=None):
    """In the child before exec: ask the kernel to SIGKILL us when the worker dies (even by
    kill -9), then enter the experiment's limits."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if limits is not None:
        limits.enter()


def base_environment():
    """The worker's environment minus its secrets, with its Python first on PATH."""
    env = {key: os.environ[key] for key in SAFE_ENVIRONMENT if key in os.environ}
    python_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([python_bin, env.get("PATH", "/usr/bin:/bin")])
    return env


def spawn(argv, *, cwd, env, log_path, limits=None):
    """Run argv in a new session (its own process group), output to log_path, within `limits`
    (a limits.Applied, kept as the process's `limits`).

    The log is opened here, by the worker: the experiment only holds the descriptor, and the
    folder of its log is outside what its sandbox can reach, so it cannot replace the file.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=functools.partial(_in_child, limits),
            )
        except subprocess.SubprocessError:  # raised in the child, by limits.enter
            raise OSError("its resource limits could not be applied") from None
    process.limits = limits
    return process


def start_experiment(sandbox, command, *, folder, code, env, outputs=None):
    """Start the experiment whose folder is `folder` in `sandbox`, within its limits: its log
    in folder/logs, its outputs in `outputs` (default folder/outputs; a resume's are its
    original's, the only folder it may write), in its code folder (its outputs folder if it
    has none). End it with end_experiment."""
    outputs = Path(outputs) if outputs is not None else Path(folder) / "outputs"
    sandbox.prepare(outputs)
    environment = sandbox.environment(env) if sandbox.enabled else {**base_environment(), **env}
    elsewhere = [outputs] if Path(folder) not in outputs.parents else []
    limits = sandbox.limits.start(folder, *elsewhere) if sandbox.limits is not None else None
    try:
        return spawn(
            sandbox.command(command, outputs=outputs, code=code, devices=gpu_devices(env)),
            cwd=code or outputs,
            env=environment,
            log_path=Path(folder) / "logs" / "output.log",
            limits=limits,
        )
    except BaseException:
        if limits is not None:
            limits.release()
        raise


def end_experiment(process, timeout):
    """stop_experiment for a process of start_experiment, then its limits are released (what
    they saw is kept for exit_message)."""
    stop_experiment(process.pid, timeout=timeout)
    process.poll()
    if process.limits is not None:
        process.limits.release()


def stop_experiment(pid, timeout):
    """End an experiment started by spawn and everything it started, sandboxed or not.

    SIGTERM goes to each of its processes, wherever they moved (a new session, a double fork):
    bubblewrap forwards no signal, and its end would SIGKILL the rest at once. After `timeout`
    seconds what is left of its process group is killed (in a sandbox, killing bwrap ends its
    whole PID namespace), then what is left of those processes, and we wait until none runs.
    Each is known by its pid and start time, so a pid reused meanwhile is never signalled.
    """
    family = [(child, _started(child)) for child in descendants(pid)]
    _signal_all(family, signal.SIGTERM, skip="bwrap")
    deadline = time.monotonic() + timeout
    while not _reaped(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_process(pid, timeout=0 if family else timeout)
    _signal_all(family, signal.SIGKILL)
    end = time.monotonic() + KILL_GRACE
    while _alive(family) and time.monotonic() < end:
        time.sleep(0.05)


def _started(pid):
    """The process's start time (clock ticks after boot): with its pid, who it is."""
    return stat_field(PROC / str(pid), STARTTIME)


def _alive(family):
    return [pid for pid, started in family if running(pid) and _started(pid) == started]


def _signal_all(family, sig, skip=None):
    for pid in _alive(family):
        if skip is None or _command_name(pid) != skip:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)


def descendants(pid):
    """The pids of every live process below pid (read from /proc at one moment)."""
    children = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            parent = stat_field(entry, PPID)
            if parent is not None:
                children.setdefault(int(parent), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _command_name(pid):
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def _reaped(pid):
    """Reap pid if it is our exited child; True once it is gone."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not running(pid)
    return done == pid


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
    return "No space left on device: the disk holding the experiment's outputs is full."


def exit_message(code, log_path, limits=None):
    """Why a process failed: the limits it ran into (a limits.Applied, once released), its exit
    code, a full disk when that is the cause, its last lines."""
    last = tail(log_path)
    reasons = limits.reasons(code, last) if limits is not None else []
    summary = " ".join(filter(None, [*reasons, f"Exit code {code}.", disk_full(log_path)]))
    return mask_keys(f"{summary}\n{last}".strip())


def tail(path, lines=20, max_bytes=64 * 1024):
    """The last lines of a log file ('' if there is none)."""
    try:
        # The experiment may have left a FIFO or a link there: open() must not wait or follow.
        handle = open_regular(path)
        if handle is None:
            return ""
        with handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - max_bytes))
            data = handle.read().decode(errors="replace")
    except OSError:
        return ""
    kept = data.splitlines()
    if size > max_bytes:
        kept = kept[1:]  # cut by the byte cap (a key cut there would escape the mask)
    return "\n".join(deque(kept, maxlen=lines))


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
