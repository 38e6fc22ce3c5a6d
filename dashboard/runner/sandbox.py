"""The sandbox every experiment runs in: bubblewrap (bwrap), its own namespaces, no privileges.

Paths are the same inside as outside. An experiment sees, and nothing else:
- read-only: the system (/usr with its /bin, /lib links and a few files of /etc), the Python
  the worker runs (its prefix and base prefix), its project's code, SANDBOX_READ_ONLY_PATHS;
- writable: its own outputs folder (a resumed experiment: its original's, not its own), a
  private /tmp (its HOME) and /dev/shm, SANDBOX_WRITABLE_PATHS;
- a /proc of its own PID namespace and a minimal /dev, plus the device files of the GPUs it
  was given (/dev/nvidia<id> and the driver's shared nodes, where they exist), no other GPU's.
So not the instance folder (database, secret key), /run, /home, /root, /sys, the checkout, nor
any other experiment's or project's folders. It runs in new PID, IPC, UTS and cgroup
namespaces and a new session, and dies with the process that started it: nothing it starts,
detached or not, outlives it. It shares the network (it reports over HTTP).

Its uid: a root worker runs bwrap as root (so it can bind paths only root may traverse), then
`setpriv` switches to SANDBOX_UID:SANDBOX_GID with no groups, no capabilities and no new
privileges; a worker that is not root runs bwrap in a user namespace of its own, with every
capability dropped there, as its own uid (it cannot be anyone else).

What it may take of the machine (CPU, memory, processes, disk) is its `limits` (limits.py),
applied by process.start_experiment, sandboxed or not; its /tmp and /dev/shm get the memory
limit as their size.
"""

import contextlib
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "passwd",
    "group",
    "hosts",
    "host.conf",
    "resolv.conf",
    "nsswitch.conf",
    "gai.conf",
    "localtime",
    "timezone",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "alternatives",
    "mime.types",
    "protocols",
    "services",
    "os-release",
    "debian_version",
)
HOME = "/tmp"
GPU_SHARED_DEVICES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")
NAMESPACES = ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")
HOW_TO_FIX = (
    "Install bubblewrap (Debian and Ubuntu: apt-get install bubblewrap; the scripts "
    "install it), or on a single-user machine set SANDBOX=off to run experiments "
    "without isolation."
)


def gpu_devices(env, dev="/dev"):
    """The device files of the GPUs an experiment's environment names (CUDA_VISIBLE_DEVICES):
    /dev/nvidia<id> of each, then the driver's shared nodes, those that exist."""
    ids = [i for i in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if i.strip().isdigit()]
    if not ids:
        return []
    names = [f"nvidia{int(i)}" for i in ids] + list(GPU_SHARED_DEVICES)
    return [f"{dev}/{name}" for name in names if os.path.exists(f"{dev}/{name}")]


class SandboxUnavailable(RuntimeError):
    """bubblewrap cannot run here; the message says why and what to do."""


def _paths(value):
    if isinstance(value, (list, tuple)):
        return tuple(str(Path(p).resolve()) for p in value if p)
    return tuple(str(Path(p).resolve()) for p in str(value or "").split(os.pathsep) if p)


def python_dirs():
    """The folders of the Python the worker runs (a venv and the installation it comes from)."""
    found = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)}
    return sorted(p for p in found if not p.startswith("/usr/"))


def _parents(paths):
    """Traversable (0755) folders above each bound path: bwrap would make them 0700."""
    bound = {"/", "/tmp", "/dev", "/proc", *SYSTEM_DIRS, *paths}
    argv = []
    for path in sorted(paths, key=len):
        for parent in reversed(Path(path).parents):
            name = str(parent)
            if name in bound or any(name.startswith(f"{b}/") for b in paths if b != path):
                continue
            bound.add(name)
            argv += ["--perms", "0755", "--dir", name]
    return argv


@functools.cache
def _has_size_option(bwrap):
    """Whether this bubblewrap knows --size (0.7 and later)."""
    try:
        result = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in result.stdout + result.stderr


@dataclass(frozen=True)
class Sandbox:
    """How experiments are isolated; `enabled` False runs them as the worker, unisolated."""

    enabled: bool = True
    uid: int = 65534
    gid: int = 65534
    read_only: tuple = ()
    writable: tuple = ()
    bwrap: str = "bwrap"
    limits: object = None  # a limits.Limits; None: none

    @classmethod
    def from_config(cls, config: Mapping, *, share=None):
        """The sandbox the settings ask for (SANDBOX, SANDBOX_UID, SANDBOX_GID, paths) with the
        limits of the EXPERIMENT_* settings, for `share` experiments at once (default
        WORKER_CAPACITY)."""
        # Imported here: this module also runs alone, copied where another user can read it.
        from dashboard.processes.isolation import sandbox_enabled
        from dashboard.runner.limits import Limits

        return cls(
            enabled=sandbox_enabled(config),
            uid=int(config.get("SANDBOX_UID", 65534)),
            gid=int(config.get("SANDBOX_GID", 65534)),
            read_only=_paths(config.get("SANDBOX_READ_ONLY_PATHS", "")),
            writable=_paths(config.get("SANDBOX_WRITABLE_PATHS", "")),
            limits=Limits.from_config(config, share=share),
        )

    @property
    def privileged(self):
        return os.geteuid() == 0

    def environment(self, experiment_env):
        """What the experiment's process gets: PATH, HOME, LANG and its POLYAXON_* variables."""
        python_bin = str(Path(sys.executable).parent)
        return {
            "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": HOME,
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            **experiment_env,
        }

    def prepare(self, outputs):
        """Make the outputs folder the experiment's own (a root worker gives it, and what it
        holds, a copy's files too, to its uid; links are never followed)."""
        outputs = Path(outputs)
        outputs.mkdir(parents=True, exist_ok=True)
        if self.enabled and self.privileged:
            os.chown(outputs, self.uid, self.gid)
            for _, folders, files, top in os.fwalk(outputs):
                for name in (*folders, *files):
                    with contextlib.suppress(FileNotFoundError):
                        os.chown(name, self.uid, self.gid, dir_fd=top, follow_symlinks=False)

    def command(self, shell_command, *, outputs, code=None, devices=()):
        """The argv that runs `shell_command` (bash -c) in this sandbox, in `code` (or outputs),
        with these device files (its GPUs')."""
        return self.wrap(
            ["/bin/bash", "-c", shell_command],
            workdir=code or outputs,
            read_only=[code] if code is not None else [],
            writable=[outputs],
            devices=devices,
        )

    def wrap(self, argv, *, workdir, read_only=(), writable=(), devices=()):
        """The argv that runs `argv` in this sandbox, in workdir, with these folders and device
        files bound (besides the system, the worker's Python and the configured extra paths)."""
        if not self.enabled:
            return list(argv)
        read_only = [*python_dirs(), *self.read_only, *map(str, read_only)]
        writable = [*self.writable, *map(str, writable)]
        size = self._tmpfs_size()
        wrapped = [
            self.bwrap,
            *self._system(),
            *NAMESPACES,
            "--die-with-parent",
            "--new-session",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--perms",
            "1777",
            *size,
            "--tmpfs",
            "/tmp",
            "--perms",
            "1777",
            *size,
            "--tmpfs",
            "/dev/shm",
            *_parents([*read_only, *writable]),
        ]
        for path in read_only:
            wrapped += ["--ro-bind", path, path]
        for path in writable:
            wrapped += ["--bind", path, path]
        for path in devices:
            wrapped += ["--dev-bind", str(path), str(path)]
        wrapped += ["--chdir", str(workdir)]
        if self.privileged:
            return wrapped + [
                "--cap-drop",
                "ALL",
                "--cap-add",
                "CAP_SETUID",
                "--cap-add",
                "CAP_SETGID",
                "--",
                "setpriv",
                f"--reuid={self.uid}",
                f"--regid={self.gid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--no-new-privs",
                "--",
                *argv,
            ]
        return wrapped + ["--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--", *argv]

    def _tmpfs_size(self):
        """bwrap's --size for a tmpfs (they are memory) where the limits cap memory."""
        memory = self.limits.memory if self.limits is not None else 0
        if not memory or not _has_size_option(self.bwrap):
            return []
        return ["--size", str(memory << 20)]

    def _system(self):
        argv = []
        for name in SYSTEM_DIRS:
            if os.path.islink(name):
                argv += ["--symlink", os.readlink(name), name]
            elif os.path.isdir(name):
                argv += ["--ro-bind", name, name]
        argv += ["--perms", "0755", "--dir", "/etc"]  # bwrap would make it 0700
        for name in ETC_FILES:
            argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        return argv

    def check(self, scratch):
        """Raise SandboxUnavailable (why, and what to do) unless a sandboxed `true` runs here."""
        if not self.enabled:
            return
        if shutil.which(self.bwrap) is None:
            raise SandboxUnavailable(
                f"Experiments run in a bubblewrap sandbox, and '{self.bwrap}'"
                f" is not installed. {HOW_TO_FIX}"
            )
        scratch = Path(scratch)
        self.prepare(scratch)
        try:
            result = subprocess.run(
                self.command("true", outputs=scratch),
                env=self.environment({}),
                capture_output=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(
                f"The bubblewrap sandbox could not start: {exc}. {HOW_TO_FIX}"
            ) from None
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip()[-500:]
            hint = (
                ""
                if self.privileged
                else (
                    " Without root, bubblewrap needs unprivileged user namespaces "
                    "(sysctl kernel.unprivileged_userns_clone=1, and on Ubuntu an AppArmor profile "
                    "allowing bwrap to use them)."
                )
            )
            raise SandboxUnavailable(
                f"The bubblewrap sandbox failed to start: {detail}.{hint} {HOW_TO_FIX}"
            )
