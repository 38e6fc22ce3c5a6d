"""Per-experiment cgroups: memory, process and CPU limits the kernel enforces on everything an
experiment starts, whatever its uid.

Each experiment gets a cgroup of its own below the worker's, in each of the memory, pids and
cpu controllers this machine lets the worker use: cgroup v1 hierarchies (a folder per
controller) or the v2 unified one (where the worker's cgroup hands those controllers to its
children). What works is found out once per process by making a probe cgroup; what does not is
left to rlimits (limits.py). A worker that died leaves empty cgroups named after its pid: the
next one to look here removes them.
"""

import contextlib
import functools
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from dashboard.runner.process import pid_alive

PREFIX = "dashboard-"
# What a child cgroup has when the controller works there: (cgroup v1 file, v2 file).
FILES = {
    "memory": ("memory.limit_in_bytes", "memory.max"),
    "pids": ("pids.max", "pids.max"),
    "cpu": ("cpu.shares", "cpu.weight.nice"),
}
EMPTY_GRACE = 5.0  # seconds for killed processes to leave the cgroup


@dataclass(frozen=True)
class Controller:
    """A controller usable here: experiments' cgroups are made in `parent`."""

    name: str
    parent: Path
    version: int

    @property
    def label(self):
        return f"cgroup v{self.version} {self.name} controller"


def _own_paths():
    """{controller name: this process's cgroup path}; "" for the v2 unified hierarchy."""
    paths = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            for name in names.split(",") if names else [""]:
                paths[name] = path
    return paths


def _mounts():
    """(version, controllers or None for v2, mount root, mount point) of each cgroup mount."""
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            before, _, after = line.partition(" - ")
            fields, kind = before.split(), after.split()
            if kind and kind[0] == "cgroup":
                found.append((1, set(kind[-1].split(",")), fields[3], fields[4]))
            elif kind and kind[0] == "cgroup2":
                found.append((2, None, fields[3], fields[4]))
    return found


def _candidates():
    """Where each controller's experiment cgroups would go: v1 mounts first, then v2."""
    own = _own_paths()
    candidates = {name: [] for name in FILES}
    for version, controllers, root, point in _mounts():
        for name in FILES:
            if version == 1 and name not in controllers or version == 2 and "" not in own:
                continue
            path = own.get(name if version == 1 else "")
            if path is None or not (path + "/").startswith(root.rstrip("/") + "/"):
                continue  # our cgroup is outside what this mount shows (another namespace)
            relative = path[len(root.rstrip("/")) :].strip("/")
            candidates[name].append(Controller(name, Path(point, relative), version))
    for name in candidates:
        candidates[name].sort(key=lambda c: c.version)
    return candidates


def _works(controller):
    """Whether a cgroup made in controller.parent gets the controller's file (then removed)."""
    probe = controller.parent / f"{PREFIX}{os.getpid()}-probe-{secrets.token_hex(4)}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        name = FILES[controller.name][controller.version - 1]
        return (probe / name).exists() and os.access(probe / "cgroup.procs", os.W_OK)
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


def own_memory_limit():
    """The memory limit of the worker's own cgroup in bytes (None: none, or none known)."""
    for controller in _candidates()["memory"]:
        text = read_text(controller.parent / FILES["memory"][controller.version - 1]).strip()
        if text.isdigit():
            return int(text)
    return None


@functools.cache
def available():
    """{controller name: Controller} of the controllers experiments' cgroups can use here
    (found once per process); leftovers of dead workers are removed on the way."""
    found = {}
    for name, candidates in _candidates().items():
        usable = next((c for c in candidates if _works(c)), None)
        if usable is not None:
            found[name] = usable
    for parent in {c.parent for c in found.values()}:
        _remove_leftovers(parent)
    return found


def _remove_leftovers(parent):
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            pid = entry.name[len(PREFIX) :].split("-", 1)[0]
            if entry.name.startswith(PREFIX) and pid.isdigit() and not pid_alive(int(pid)):
                with contextlib.suppress(OSError):
                    entry.rmdir()  # fails unless empty: nothing running is touched


def _write(path, value):
    """Write with os calls only: it also runs in a forked child before exec."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def read_text(path):
    """A cgroup file's text ('' if it cannot be read)."""
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _count(text, key):
    """The number after `key` in a flat-keyed file (memory.events, pids.events, oom_control)."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
            return int(parts[1])
    return 0


def cpu_shares(nice):
    """The cgroup v1 cpu.shares of a process at this niceness (1024 at 0, x1.25 a step)."""
    return max(2, round(1024 / 1.25**nice))


class Cgroup:
    """One experiment's cgroup in each usable controller, with its limits written."""

    def __init__(self, controllers, *, memory=0, pids=0, nice=0):
        name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        self.controllers = controllers  # {name: Controller} of the limits asked for
        self.folders = {}  # controller name -> folder (co-mounted v1 ones and v2 share one)
        try:
            for key, controller in controllers.items():
                folder = controller.parent / name
                if folder not in self.folders.values():
                    folder.mkdir()
                self.folders[key] = folder
            self._limit(memory, pids, nice)
        except OSError:
            self.remove()
            raise

    def _limit(self, memory, pids, nice):
        v1 = {key: c.version == 1 for key, c in self.controllers.items()}
        if "memory" in self.folders:
            folder = self.folders["memory"]
            if v1["memory"]:
                _write(folder / "memory.limit_in_bytes", memory)
                if (folder / "memory.memsw.limit_in_bytes").exists():  # swap counts too
                    _write(folder / "memory.memsw.limit_in_bytes", memory)
            else:
                _write(folder / "memory.max", memory)
                if (folder / "memory.swap.max").exists():
                    _write(folder / "memory.swap.max", 0)
        if "pids" in self.folders:
            _write(self.folders["pids"] / "pids.max", pids)
        if "cpu" in self.folders:
            if v1["cpu"]:
                _write(self.folders["cpu"] / "cpu.shares", cpu_shares(nice))
            else:
                _write(self.folders["cpu"] / "cpu.weight.nice", nice)

    def join(self):
        """Move the calling process into the cgroup (in the forked child, before exec)."""
        for folder in set(self.folders.values()):
            _write(folder / "cgroup.procs", 0)

    def oom_kills(self):
        """How many of its processes the kernel killed for its memory limit."""
        folder = self.folders.get("memory")
        if folder is None:
            return 0
        if self.controllers["memory"].version == 1:
            return _count(read_text(folder / "memory.oom_control"), "oom_kill")
        return _count(read_text(folder / "memory.events"), "oom_kill")

    def forks_refused(self):
        """How many times a fork or thread was refused for its process limit."""
        folder = self.folders.get("pids")
        return _count(read_text(folder / "pids.events"), "max") if folder else 0

    def pids(self):
        found = set()
        for folder in set(self.folders.values()):
            found.update(int(p) for p in read_text(folder / "cgroup.procs").split() if p.isdigit())
        return found

    def remove(self):
        """Kill what is still in it (nothing, once its sandbox has ended), then remove it."""
        deadline = time.monotonic() + EMPTY_GRACE
        while (left := self.pids()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        for folder in set(self.folders.values()):
            with contextlib.suppress(OSError):
                folder.rmdir()
