"""What one experiment may take of the machine: CPU priority, memory, processes, disk.

Applied at launch to the process that becomes the sandbox (process.spawn, under the local
runner and on Celery workers alike), so to everything the experiment starts:

- CPU: `nice` steps below the worker (os.nice), and where the cpu controller is usable, a
  cgroup of its own weighted like that niceness: the kernel's autogroups otherwise give every
  session (each experiment is one) an equal share whatever its niceness.
- Memory: a cgroup memory limit (swap included) where the memory controller is usable, else
  RLIMIT_AS on each process (address space, which runs out before resident memory does);
  its /tmp and /dev/shm (memory too) are capped at the same size by the sandbox.
- Processes: RLIMIT_NPROC, which the kernel counts per real uid: every experiment shares the
  sandbox's uid, so it bounds all of them together; where the pids controller is usable each
  experiment's cgroup also gets its share (`nproc` / `share`), so one fork bomb cannot take
  every other experiment's processes.
- Disk: RLIMIT_FSIZE on each file it writes, and a thread that adds up its folder (outputs and
  log) every `check_seconds` and reports it past `outputs_mb`; the runner then stops it.

0 turns a limit off. What is in force here is said by `describe()`.
"""

import contextlib
import os
import re
import resource
import signal
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dashboard.runner import cgroups

MIB = 1 << 20
CHECK_SECONDS = 10.0
MEMORY_SHARE = 0.75  # of the machine's memory, split between WORKER_CAPACITY experiments
OUT_OF_MEMORY = re.compile(r"MemoryError|Cannot allocate memory|bad_alloc|out of memory")
FILE_TOO_LARGE = re.compile(r"File too large|File size limit exceeded")
NO_MORE_PROCESSES = re.compile(r"Resource temporarily unavailable")


def machine_memory_mb():
    """This machine's memory in MiB, or the worker's cgroup limit when that is lower."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return min(total, cgroups.own_memory_limit() or total) // MIB


@dataclass(frozen=True)
class Limits:
    """Each experiment's limits (MiB, counts, 0 for none) and how they are enforced here.

    memory_mb None: an equal part of 3/4 of the machine's memory for each of `share`
    experiments, worked out when first used (never by the web server, which only asks
    whether experiments are sandboxed)."""

    nice: int = 0
    memory_mb: int | None = 0
    nproc: int = 0
    file_mb: int = 0
    outputs_mb: int = 0
    share: int = 1  # experiments at once on this machine: each cgroup gets nproc // share
    use_cgroups: bool = True
    check_seconds: float = CHECK_SECONDS

    @classmethod
    def from_config(cls, config, *, share=None):
        """The limits the EXPERIMENT_* settings ask for, for `share` experiments at once
        (default WORKER_CAPACITY)."""
        memory = config.get("EXPERIMENT_MEMORY_MB")
        return cls(
            nice=int(config.get("EXPERIMENT_NICE", 10)),
            memory_mb=None if memory is None else int(memory),
            nproc=int(config.get("EXPERIMENT_NPROC", 4096)),
            file_mb=int(config.get("EXPERIMENT_FILE_MB", 4096)),
            outputs_mb=int(config.get("EXPERIMENT_OUTPUTS_MB", 10240)),
            share=max(1, int(share or config.get("WORKER_CAPACITY", 8))),
            use_cgroups=str(config.get("EXPERIMENT_CGROUPS", "auto")).lower() != "off",
        )

    @cached_property
    def memory(self):
        """Each experiment's memory limit in MiB (0: none)."""
        if self.memory_mb is None:
            return int(machine_memory_mb() * MEMORY_SHARE // self.share)
        return self.memory_mb

    def controllers(self):
        """{name: Controller} of the cgroup controllers these limits use here."""
        if not self.use_cgroups:
            return {}
        wanted = {"memory": self.memory, "pids": self.nproc, "cpu": self.nice}
        return {name: c for name, c in cgroups.available().items() if wanted[name]}

    @property
    def cgroup_pids(self):
        return max(1, self.nproc // self.share)

    def describe(self):
        """One line per limit: its value and what enforces it on this machine."""
        used = self.controllers()

        cpu = (
            f"and a CPU weight to match, {used['cpu'].label}"
            if "cpu" in used
            else "no usable cpu cgroup: the kernel's autogroups may still share the CPU "
            "equally between sessions"
        )
        memory = (
            used["memory"].label
            if "memory" in used
            else "RLIMIT_AS per process: no usable memory cgroup here"
        )
        processes = (
            f"{self.nproc} processes and threads for all experiments together "
            "(RLIMIT_NPROC of the sandbox uid)"
        )
        if "pids" in used:
            processes += f", {self.cgroup_pids} each ({used['pids'].label})"
        return [
            f"CPU: niceness +{self.nice} ({cpu})" if self.nice else "CPU: not niced",
            f"memory: {self.memory} MiB each ({memory})" if self.memory else "memory: no limit",
            f"processes: {processes}" if self.nproc else "processes: no limit",
            f"files: up to {self.file_mb} MiB each (RLIMIT_FSIZE)"
            if self.file_mb
            else "files: no size limit",
            f"outputs and log: up to {self.outputs_mb} MiB per experiment (checked every "
            f"{self.check_seconds:g} s)"
            if self.outputs_mb
            else "outputs: no size limit",
        ]

    def start(self, folder, *more):
        """The limits of one experiment about to start in `folder` (its cgroup made now); its
        disk is `folder` and `more` folders it writes (a resume's, its original's outputs)."""
        return Applied(self, folder, more)


class Applied:
    """One experiment's limits: `enter` in its process before exec, `exceeded` while it runs,
    `release` once it has ended, then `reasons` for its failure message."""

    def __init__(self, limits, folder, more=()):
        self.limits = limits
        self.folder = Path(folder)
        self.folders = [self.folder, *map(Path, more)]
        controllers = limits.controllers()
        self.cgroup = (
            cgroups.Cgroup(
                controllers, memory=limits.memory * MIB, pids=limits.cgroup_pids, nice=limits.nice
            )
            if controllers
            else None
        )
        self.memory_cgroup = "memory" in controllers
        self.oom_kills = self.forks_refused = 0
        self.exceeded = ""  # why the runner must stop it, once its folder is too big
        self._ended = threading.Event()
        self._watcher = None
        if limits.outputs_mb:
            self._watcher = threading.Thread(
                target=self._watch_folder, daemon=True, name=f"outputs-limit {self.folder.name}"
            )
            self._watcher.start()

    def enter(self):
        """In the forked child, before exec: join the cgroup, renice, set the rlimits.

        Only system calls here (the worker may have other threads, whose locks a forked
        child must never wait for)."""
        limits = self.limits
        if self.cgroup is not None:
            self.cgroup.join()
        if limits.nice:
            os.nice(limits.nice)
        _lower(resource.RLIMIT_CORE, 0)
        if limits.file_mb:
            _lower(resource.RLIMIT_FSIZE, limits.file_mb * MIB)
        if limits.memory and not self.memory_cgroup:
            _lower(resource.RLIMIT_AS, limits.memory * MIB)
        if limits.nproc:
            _lower(resource.RLIMIT_NPROC, limits.nproc)

    def _watch_folder(self):
        cap = self.limits.outputs_mb * MIB
        while not self._ended.wait(self.limits.check_seconds):
            size = sum(
                folder_size(folder, stop_above=cap, ended=self._ended) for folder in self.folders
            )
            if size > cap:
                self.exceeded = (
                    f"The experiment's outputs and log passed their limit of "
                    f"{self.limits.outputs_mb} MiB: it was stopped."
                )
                return

    def release(self):
        """After the experiment ended: note what its cgroup saw, then remove it."""
        self._ended.set()
        if self._watcher is not None:
            self._watcher.join(timeout=1)
        if self.cgroup is not None:
            self.oom_kills = self.cgroup.oom_kills()
            self.forks_refused = self.cgroup.forks_refused()
            self.cgroup.remove()
            self.cgroup = None

    def reasons(self, code, tail):
        """Which limits a failed experiment (exit code, last log lines) ran into, in words."""
        limits, found = self.limits, []
        if limits.memory and (
            self.oom_kills or not self.memory_cgroup and OUT_OF_MEMORY.search(tail)
        ):
            found.append(f"The experiment exceeded its memory limit of {limits.memory} MiB.")
        if limits.file_mb and (
            code in (128 + signal.SIGXFSZ, -signal.SIGXFSZ) or FILE_TOO_LARGE.search(tail)
        ):
            found.append(
                f"The experiment wrote a file past the limit of {limits.file_mb} MiB per file."
            )
        if self.forks_refused:
            found.append(
                f"The experiment reached its limit of {limits.cgroup_pids} processes and threads."
            )
        elif limits.nproc and NO_MORE_PROCESSES.search(tail):
            found.append(
                f"The experiment reached the limit of {limits.nproc} processes and "
                "threads that all experiments share."
            )
        return found


def _lower(which, value):
    """Set a resource's soft and hard limit to value (never above the hard one it has)."""
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def folder_size(folder, *, stop_above=None, ended=None):
    """Bytes of disk the files and folders below `folder` take (links not followed); the
    count stops once past stop_above, or when `ended` is set."""
    total, todo = 0, [folder]
    while todo:
        with contextlib.suppress(OSError), os.scandir(todo.pop()) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(entry.path)
                if stop_above is not None and total > stop_above or ended and ended.is_set():
                    return total
    return total
