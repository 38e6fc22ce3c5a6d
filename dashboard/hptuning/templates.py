"""Rendering run.cmd: in a renderer process of its own, bounded in time, memory and output.

Jinja2's sandbox keeps templates away from Python's internals but not from the machine: a filter
chain (`replace`, `center`, `format`, `indent`), a doubling loop or nested ranges can take
minutes and gigabytes. So templates never render in the caller's process. Each process keeps a
few long-lived renderers (`render_server.py`, started on first use, one per concurrent caller);
each caps its own address space and CPU time, and the caller waits at most TIMEOUT_SECONDS for
an answer, then kills it. A renderer that breached a limit is replaced by a fresh one on the
next call. The normal path costs one pipe round trip (~0.1 ms).
"""

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .errors import SpecError

SERVER = Path(__file__).with_name("render_server.py")
TIMEOUT_SECONDS = 1.0  # wall clock per command; past it the renderer is killed
CPU_SECONDS = 2  # RLIMIT_CPU per command: the kernel's backstop should the caller be gone
MEMORY_BYTES = 256 * 2**20  # RLIMIT_AS of a renderer process
MAX_OUTPUT = 100_000  # characters of one rendered run.cmd (a list's items together)
STARTUP_SECONDS = 30  # for a new renderer to import Jinja2 (not counted in its time limit)
IDLE_RENDERERS = 4  # renderers kept per process between calls
LIMITS = {
    "timeout": TIMEOUT_SECONDS,
    "cpu": CPU_SECONDS,
    "memory": MEMORY_BYTES,
    "max_output": MAX_OUTPUT,
}


def render_command(spec, params):
    """Render every string of the spec's run.cmd with `params`; SpecError names what failed."""
    return render_cmd(spec.run_cmd, params)


def render_cmd(cmd, params):
    """Render run.cmd (a string or a list of strings) with `params`, within LIMITS."""
    if isinstance(cmd, list):
        items = [[f"run.cmd[{i}]", item] for i, item in enumerate(cmd)]
    else:
        items = [["run.cmd", cmd]]
    reply = _render(items, params)
    if "error" in reply:
        raise SpecError.at(reply["error"]["path"], reply["error"]["message"])
    return reply["ok"] if isinstance(cmd, list) else reply["ok"][0]


class Renderer:
    """One renderer process and the pipe to it; `dead` once it breached a limit or vanished."""

    def __init__(self, limits=LIMITS):
        self.limits = limits
        self.owner = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(SERVER), json.dumps(limits)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.dead = False
        if self._read(time.monotonic() + STARTUP_SECONDS) != "ready":
            raise OSError("the template renderer did not start")

    def request(self, items, params):
        """The renderer's reply to one request, or an error reply naming the limit it broke."""
        line = json.dumps({"items": items, "params": params}, default=_plain) + "\n"
        path = items[0][0] if items else "run.cmd"
        try:
            self.process.stdin.write(line.encode())
            self.process.stdin.flush()
        except BrokenPipeError:
            self.close()
            raise
        reply = self._read(time.monotonic() + self.limits["timeout"])
        if reply is None:
            return {"error": {"path": path, "limit": "time", "message": self._why()}}
        if reply.get("error", {}).get("limit") == "memory":
            self.close()  # it exits after such an answer
        return reply

    def _read(self, deadline):
        """One line from the renderer before `deadline`, else None (and the renderer killed)."""
        out = self.process.stdout
        chunks = []
        while True:
            remaining = deadline - time.monotonic()
            ready = remaining > 0 and select.select([out], [], [], remaining)[0]
            if not ready:
                self.process.kill()
                self.close()
                return None
            chunk = out.read1(1 << 16)
            if not chunk:  # it died: the kernel's CPU or memory limit
                self.close()
                return None
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                line = b"".join(chunks)
                return "ready" if line == b"ready\n" else json.loads(line)

    def _why(self):
        code = self.process.returncode
        if code == -signal.SIGXCPU:
            return f"the template used more than the CPU time limit of {self.limits['cpu']} s"
        if code is not None and code != -signal.SIGKILL:
            return f"the template renderer stopped (exit status {code}) at its memory limit"
        return f"the template took longer than the time limit of {self.limits['timeout']:g} s"

    def close(self):
        """End the renderer (closing its stdin ends an idle one) and reap it."""
        self.dead = True
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        try:
            self.process.wait(timeout=self.limits["timeout"])
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_lock = threading.Lock()
_idle = []
_owner = [os.getpid()]


def _render(items, params):
    """Render on an idle renderer of this process (a new one if none is idle)."""
    renderer = _acquire()
    try:
        reply = renderer.request(items, params)
    except BrokenPipeError:  # an idle renderer that vanished meanwhile: once more, afresh
        renderer = Renderer()
        reply = renderer.request(items, params)
    _release(renderer)
    return reply


def _acquire():
    with _lock:
        if _owner[0] != os.getpid():  # forked: the parent's renderers are not ours to use
            _idle.clear()
            _owner[0] = os.getpid()
        while _idle:
            renderer = _idle.pop()
            if renderer.process.poll() is None:
                return renderer
    return Renderer()


def _release(renderer):
    if renderer.dead:
        return
    with _lock:
        if renderer.owner == os.getpid() and len(_idle) < IDLE_RENDERERS:
            _idle.append(renderer)
            return
    renderer.close()


@atexit.register
def _close_idle():
    with _lock:
        idle = [r for r in _idle if r.owner == os.getpid()]
        _idle.clear()
    for renderer in idle:
        renderer.close()


def _plain(value):
    """JSON for the odd values params may hold: numpy scalars as numbers, dates as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)
