"""Process groups: whether a process runs, and stopping a group (SIGTERM, then SIGKILL) until
nothing of it is left (plain functions: no Flask, no database)."""

import contextlib
import os
import signal
import time
from pathlib import Path

POLL_INTERVAL = 0.05
# After SIGKILL the kernel needs a moment to tear the processes down; bound that wait too.
KILL_GRACE = 5.0
PROC = Path("/proc")
DEAD_STATES = ("Z", "X")  # zombie, dead
STATE, PGRP = 0, 2  # fields of /proc/<pid>/stat after the command name


def is_alive(pid: int) -> bool:
    """Whether `pid` runs; zombies count as dead (and our own exited children are reaped)."""
    if pid <= 0:
        return False
    try:
        reaped_pid, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return running(pid)  # not our child
    return reaped_pid == 0


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
        stat_field(entry, PGRP) == str(pgid) and running(entry.name)
        for entry in PROC.iterdir()
        if entry.name.isdigit()
    )


def running(pid):
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
    return any(stat_field(thread, STATE) not in (None, *DEAD_STATES) for thread in threads)


def stat_field(directory, index):
    """One field of `directory`/stat, counted from the one after the command name."""
    try:
        stat = (directory / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may contain spaces and parentheses; it ends at the last ")".
    return stat[stat.rindex(")") + 2 :].split()[index]
