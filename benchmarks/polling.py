"""Cheap polling: 100 browsers on one running group's page while its 100 experiments report.

Starts a throwaway PostgreSQL cluster and makes a running group of 100 running experiments
(a grid of two params, no runner: their statuses are set directly), each with its own key.
Serves the app as production does (benchmarks/serving.py: gunicorn.conf.py, gthread,
production config, 2 workers). Then, for 60 s:

- 100 simulated browsers (10 signed-in sessions of the owner, 10 tabs each), each polling what
  the group page polls while the group runs, at the page's rates: the header fragment every 3 s, the
  experiments table every 5 s, the plots and the coverage map every 10 s, each starting at a
  random moment within its period. Like a browser's cache, each keeps the last ETag of each URL
  and sends it as If-None-Match (so most polls are 304s until something changes);
- the 100 experiments each report one metric point every second with their own key (the
  tracking client's call), which changes the group's version every time.

A pool of client threads (kept-alive connections) sends each request at its due time. Prints
per kind: requests, 200s, 304s, other answers, p50 and p99 latency (from sending to the whole
answer read), how late the client sent (it must keep up for the figures to mean anything), and
the CPU seconds the server's processes used per second of wall time (gunicorn's master and
workers; PostgreSQL's beside it). Goals: p99 < 500 ms, server CPU < 1 core.

Usage: python benchmarks/polling.py [--duration S] [--browsers N] [--experiments N]
                                   [--threads T]
"""

import argparse
import heapq
import http.client
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fill  # noqa: E402
import serving  # noqa: E402

# What the group page polls while its group runs: (kind, path suffix, htmx headers, period s).
POLLS = (
    ("header", "live?status=running", {}, 3),
    ("table", "experiments", {"HX-Trigger": "experiments-live"}, 5),
    ("plots", "plots", {}, 10),
    ("coverage", "coverage?colour=status", {}, 10),
)
# Signed-in sessions of the group's owner the browsers share (ten tabs each).
SESSIONS = 10


def grid(n):
    """A grid of exactly n experiments (n a multiple of 5) over five params."""
    return (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 100\n  matrix:\n"
        f"    lr: {{linspace: 0.001:0.1:{n // 5}}}\n"
        "    dropout: {values: [0.1, 0.2, 0.3, 0.4, 0.5]}\n"
        "run:\n  cmd: echo {{ lr }}\n"
    )


def running_group(app, size):
    """Owner bench's running group of `size` running experiments: (group id,
    [(experiment id, key)])."""
    from sqlalchemy import select, update

    from dashboard.extensions import db
    from dashboard.models import Experiment
    from dashboard.models.types import utcnow
    from dashboard.services.experiment import credentials
    from dashboard.services.group import statuses
    from dashboard.services.group.groups import create_group
    from dashboard.services.project import projects
    from dashboard.services.project.access import project_access
    from dashboard.services.user import users

    with app.app_context():
        owner = users.create_user("bench", fill.PASSWORD)
        projects.create_project(actor=owner, name="bench")
        group = create_group(project_access("bench", "bench", actor=owner), content=grid(size))
        statuses.set_group_status(group, "running")
        db.session.execute(
            update(Experiment)
            .where(Experiment.group_id == group.id)
            .values(status="running", started_at=utcnow(), worker="bench")
        )
        db.session.commit()
        rows = db.session.scalars(
            select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
        ).all()
        keys = [(e.id, credentials.issue_experiment_token(e)) for e in rows]
        db.session.commit()
        return group.id, keys


class Client:
    """Client threads taking due requests from one schedule, each with its own connection."""

    def __init__(self, port, threads, deadline):
        self.port, self.deadline = port, deadline
        self.schedule, self.lock = [], threading.Condition()
        self.latency, self.lateness = defaultdict(list), []
        self.statuses = defaultdict(Counter)
        self.order = 0
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]

    def at(self, due, task):
        with self.lock:
            self.order += 1
            heapq.heappush(self.schedule, (due, self.order, task))
            self.lock.notify()

    def _next(self):
        with self.lock:
            while True:
                if time.monotonic() >= self.deadline:
                    return None
                if self.schedule:
                    due = self.schedule[0][0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self.schedule)
                    self.lock.wait(min(wait, self.deadline - time.monotonic()))
                else:
                    self.lock.wait(0.05)

    def _send(self, connection, method, path, headers, body):
        for attempt in range(2):
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                if response.will_close:
                    connection.close()
                    connection = None
                return connection, response, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()  # the server closed an idle kept-alive connection
                connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _work(self):
        connection = None
        while (item := self._next()) is not None:
            due, _, task = item
            kind, method, path, headers, body, done = task
            started = time.monotonic()
            self.lateness.append(started - due)
            try:
                connection, response, _ = self._send(connection, method, path, headers, body)
                status = response.status
            except OSError as exc:
                connection, status, response = None, f"error {exc!r}"[:60], None
            self.latency[kind].append(time.monotonic() - started)
            self.statuses[kind][status] += 1
            done(due, response)

    def run(self):
        for thread in self.threads:
            thread.start()
        for thread in self.threads:
            thread.join()


def browser(client, base, cookie, start):
    """Schedule one browser's polls: each URL at its period, with its last ETag."""
    etags = {}

    def poll(kind, path, headers, period):
        def done(due, response):
            if response is not None and response.status in (200, 286):
                etags[path] = response.getheader("ETag")
            if response is None or response.status != 286:
                schedule(due + period)

        def schedule(due):
            sent = {"Cookie": cookie, "HX-Request": "true", **headers}
            if etags.get(path):
                sent["If-None-Match"] = etags[path]
            client.at(due, (kind, "GET", path, sent, None, done))

        return schedule

    for kind, suffix, headers, period in POLLS:
        poll(kind, f"{base}/{suffix}", headers, period)(start + random.uniform(0, period))


def reporter(client, experiment_id, key, start):
    """Schedule one experiment's reports: one point every second."""
    path = f"/api/v1/bench/bench/experiments/{experiment_id}/metrics"
    headers = {"Authorization": f"token {key}", "Content-Type": "application/json"}
    step = [0]

    def done(due, response):
        schedule(due + 1)

    def schedule(due):
        step[0] += 1
        body = f'{{"values": {{"loss": {1 / step[0]:.6f}, "step": {step[0]}}}}}'
        client.at(due, ("metric post", "POST", path, headers, body, done))

    schedule(start + random.uniform(0, 1))


def postgres_pids(app):
    """The PostgreSQL server's postmaster (its children are the backends)."""
    from sqlalchemy import text

    from dashboard.extensions import db

    with app.app_context():
        folder = db.session.execute(text("SHOW data_directory")).scalar()
    return int(Path(folder, "postmaster.pid").read_text().split()[0])


def tree_cpu(pid):
    """CPU seconds of a process, its waited children and its live children."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
    return own + serving.cpu_seconds(int(c) for c in children)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--browsers", type=int, default=100)
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args(argv)
    random.seed(1)
    with fill.postgres() as url:
        app = fill.setup_app(url)
        group, keys = running_group(app, args.experiments)
        postmaster = postgres_pids(app)
        port = fill.free_port()
        with serving.production_gunicorn(2, port, url, log=fill.TMP / "polling.log") as server:
            cookies = [fill.session_cookie(port) for _ in range(SESSIONS)]
            base = f"/bench/bench/groups/{group}"
            warm = Client(port, 4, time.monotonic() + 3)
            for n in range(8):
                browser(warm, base, cookies[n % SESSIONS], time.monotonic())
            warm.run()
            start = time.monotonic() + 0.5
            client = Client(port, args.threads, start + args.duration)
            for n in range(args.browsers):
                browser(client, base, cookies[n % SESSIONS], start)
            for experiment_id, key in keys:
                reporter(client, experiment_id, key, start)
            pids = serving.server_pids(server)
            cpu_before, pg_before = serving.cpu_seconds(pids), tree_cpu(postmaster)
            loads = [os.getloadavg()[0]]
            client.run()
            wall = time.monotonic() - start
            cpu = (serving.cpu_seconds(pids) - cpu_before) / wall
            pg = (tree_cpu(postmaster) - pg_before) / wall
            loads.append(os.getloadavg()[0])
    report(args, client, wall, cpu, pg, loads)


def report(args, client, wall, cpu, pg, loads):
    print(f"\n{serving.machine_line()}; load average {min(loads):.1f} to {max(loads):.1f}")
    print(
        f"{args.browsers} browsers polling one running group, {args.experiments} experiments "
        f"reporting every second, {wall:.0f} s; gunicorn -c gunicorn.conf.py (2 gthread "
        f"workers) + PostgreSQL; {args.threads} client threads"
    )
    print(
        f"{'kind':<12} {'requests':>8} {'200':>6} {'304':>6} {'other':>6} {'p50 ms':>8} "
        f"{'p99 ms':>8}"
    )
    everything = []
    for kind in [k for k, *_ in POLLS] + ["metric post"]:
        counts, values = client.statuses[kind], client.latency[kind]
        everything += values
        ok = counts.get(200, 0) + counts.get(201, 0)
        other = sum(counts.values()) - ok - counts.get(304, 0)
        print(
            f"{kind:<12} {sum(counts.values()):>8} {ok:>6} {counts.get(304, 0):>6} "
            f"{other:>6} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f}"
        )
        for status, n in counts.items():
            if status not in (200, 201, 304):
                print(f"    {status}: {n}")
    p99 = percentile(everything, 0.99)
    late = percentile(client.lateness, 0.99)
    print(
        f"all: {len(everything)} requests ({len(everything) / wall:.0f}/s), median "
        f"{statistics.median(everything) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
        f"(goal < 500 ms: {'met' if p99 < 0.5 else 'NOT met'}); client sent p99 "
        f"{late * 1000:.0f} ms after due"
    )
    print(
        f"server CPU (gunicorn master + workers): {cpu:.2f} s per s (goal < 1 core: "
        f"{'met' if cpu < 1 else 'NOT met'}); PostgreSQL: {pg:.2f} s per s"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
