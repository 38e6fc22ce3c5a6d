"""The scheduler's search process: hyperband and bo iterations worked out outside its loop.

Working out a group's next iteration (a GP fit and the acquisition's optimisation, a bracket's
configs) costs what the group's polyaxonfile and results make it cost, so it never runs in the
scheduler's round. The round submits a group's request and moves on; a process of its own
(`hptuning/search_server.py`, started on first use) works requests out one at a time; each round
collects the answers without waiting. A request gets `timeout` seconds of wall-clock time and the
process `memory` bytes of address space: past either, the answer is an error naming the limit
(the group fails with it) and a fresh process takes the next request. Requests wait their turn
by project, the project served longest ago first, so one project's many groups never queue
ahead of another project's first.
"""

import contextlib
import json
import math
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from dashboard.hptuning import search_server

SERVER = Path(search_server.__file__)
STARTUP_SECONDS = 60  # for a new process to load numpy, scipy and scikit-learn
READ_CHUNK = 1 << 20
# Its whole environment: none of the scheduler's settings (secrets among them), and one BLAS
# thread, as it shares the machine with the scheduler and the experiments.
ENVIRONMENT = {
    "LANG": "C.UTF-8",
    **{name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
}


class Searches:
    """Requests keyed by the caller, answered in a later round; `finished` holds the answers
    ({"ok": ...} or {"error": {"message": ...}}) in the order they came."""

    def __init__(self, *, timeout, memory):
        self.timeout = timeout
        self.limits = {"cpu": math.ceil(timeout) + 1, "memory": memory}
        self.queue = {}  # key -> (owner, request line), in submission order
        self.finished = {}  # key -> answer, in the order they came
        self.served = {}  # owner -> when it was last served (a count of requests sent)
        self.sent = 0
        self.process = None
        self.ready = False
        self.current = None  # (key, deadline) of the request being worked out
        self.buffer = b""
        self.startup_deadline = 0.0
        # Asynchronous searches are asked again only when their group changed: what the caller
        # noted of it when it asked, and of those answered "nothing to start" (see `rest`).
        self.asked = {}  # key -> note
        self.idle = {}  # key -> note

    def __contains__(self, key):
        return (
            key in self.queue
            or key in self.finished
            or (self.current is not None and self.current[0] == key)
        )

    def submit(self, key, owner, request, note=None):
        """Queue a request (a JSON-ready dict) of `owner` (a project) under `key`, noting
        `note` (what the caller knew of the group when it asked)."""
        self.queue[key] = (owner, json.dumps(request) + "\n")
        self.asked[key] = note
        self.idle.pop(key, None)
        self.poll()

    def rest(self, key):
        """The request under `key` was answered with nothing to do: `resting` tells, until the
        caller's note changes, that asking again would get the same answer."""
        self.idle[key] = self.asked.pop(key, None)

    def resting(self, key, note):
        return key in self.idle and self.idle[key] == note

    def keep(self, keys):
        """Forget the requests not in `keys` (their groups stopped, were deleted or moved on);
        the process working one out is ended."""
        keys = set(keys)
        for key in [key for key in self.queue if key not in keys]:
            del self.queue[key]
        for key in [key for key in self.finished if key not in keys]:
            del self.finished[key]
        for notes in (self.asked, self.idle):
            for key in [key for key in notes if key not in keys]:
                del notes[key]
        if self.current is not None and self.current[0] not in keys:
            self.current = None
            self._end()

    def poll(self):
        """Collect what the process answered, enforce its deadline, send it the next request."""
        if self.process is not None:
            self._read()
        if self.current is not None and time.monotonic() > self.current[1]:
            self._fail(
                f"working out the next iteration took longer than the time limit of "
                f"{self.timeout:g} s"
            )
        if self.process is not None and not self.ready and time.monotonic() > self.startup_deadline:
            self._end()
            self._fail_next("the search process did not start")
        if self.queue and self.process is None:
            self._start()
        if self.queue and self.ready and self.current is None:
            self._send()

    def close(self):
        """End the process; what it was working out is forgotten."""
        self.current = None
        self._end()

    def _start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(SERVER), json.dumps(self.limits)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", os.defpath), **ENVIRONMENT},
        )
        self.ready = False
        self.buffer = b""
        self.startup_deadline = time.monotonic() + STARTUP_SECONDS

    def _send(self):
        owner_of = {key: owner for key, (owner, _) in self.queue.items()}
        # The project served longest ago first; in submission order within a project.
        key = min(self.queue, key=lambda k: self.served.get(owner_of[k], -1))
        owner, line = self.queue.pop(key)
        self.sent += 1
        self.served[owner] = self.sent
        if not self.queue:
            self.served.clear()
        self.current = (key, time.monotonic() + self.timeout)
        try:
            self.process.stdin.write(line.encode())
            self.process.stdin.flush()
        except OSError:  # it died meanwhile
            self._fail(self._why())

    def _read(self):
        process = self.process
        while self.process is process and select.select([process.stdout], [], [], 0)[0]:
            chunk = os.read(process.stdout.fileno(), READ_CHUNK)
            if not chunk:  # it exited: the kernel's CPU limit, its memory limit, a crash
                if self.current is not None:
                    self._fail(self._why())
                elif not self.ready:  # while loading: the next request would meet the same
                    self._fail_next(
                        f"the search process did not start (exit status {self._exit_code()})"
                    )
                    self._end()
                else:
                    self._end()
                return
            self.buffer += chunk
            while self.process is process and b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                self._line(line)

    def _line(self, line):
        if line == b"ready":
            self.ready = True
            return
        if self.current is None:
            return
        key, _ = self.current
        self.current = None
        try:
            self.finished[key] = json.loads(line)
        except ValueError:
            self.finished[key] = {"error": {"message": "the search process answered garbage"}}
            self._end()
            return
        if self.finished[key].get("error", {}).get("limit") == "memory":
            self._end()  # it exits after such an answer

    def _exit_code(self):
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        return self.process.returncode

    def _why(self):
        code = self._exit_code()
        if code == -signal.SIGXCPU:
            return (
                f"working out the next iteration used more than the CPU time limit of "
                f"{self.limits['cpu']} s"
            )
        return (
            f"the search process stopped (exit status {code}) working out the next "
            f"iteration; its memory limit is {self.limits['memory'] // 2**20} MiB"
        )

    def _fail(self, message):
        """The request being worked out ends with `message`; the process goes."""
        if self.current is not None:
            self.finished[self.current[0]] = {"error": {"message": message}}
            self.current = None
        self._end()

    def _fail_next(self, message):
        if self.queue:
            key = next(iter(self.queue))
            del self.queue[key]
            self.finished[key] = {"error": {"message": message}}

    def _end(self):
        process, self.process = self.process, None
        self.ready = False
        self.buffer = b""
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        process.wait()
