"""50 concurrent API clients for 60 s against gunicorn + PostgreSQL, then a check for lost writes.

Fills a 10,000-experiment group and a 1,000-experiment group of unstarted (`created`)
experiments in a throwaway PostgreSQL cluster (scripts/postgres.sh), starts gunicorn on
127.0.0.1 shaped like the production gunicorn.conf.py (4 gthread workers x 4 threads, 120 s
timeout, production config; flags on the command line), warms every worker up, then runs one
thread per client, each with its own member token, keeping its connection open when the server
allows it, looping over a seeded random mix:

- 45% reads, in equal parts: group detail, a page of 20 experiments sorted by loss at a random
  offset, the default first page, one experiment;
- 10% bookmark toggles of the big group (bookmark, then unbookmark: 201, 204);
- 15% description edits (PATCH) of the client's own experiments (client i edits every 50th one,
  so the last acknowledged edit of each is the one that must be stored);
- 25% metric posts ({"values": {"loss", "load_seq"}}) to random experiments of the big group;
- 5% stops of random unstarted experiments.

Then prints requests done, requests/second, p50/p99 latency (overall and per kind), answers by
status class, and reads the database: every acknowledged metric row (by id, with its values and
experiment), every acknowledged description, each client's final bookmark state and every
acknowledged stop must be there. Targets: 0 5xx, 0 lost writes.

Usage: python benchmarks/load.py [--clients N] [--duration S] [--size N] [--workers W]
                                [--threads T]
       (defaults 50, 60, 10000, 4, 4; --size a multiple of 200; DATABASE_URL, an empty
        database, instead of a throwaway cluster when set)
"""

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fill  # noqa: E402

PENDING = 1000
API = "/api/v1/bench/bench"
MIX = (("read", 45), ("bookmark", 10), ("edit", 15), ("metric", 25), ("stop", 5))
READS = ("read group", "read sorted", "read page", "read one")


class LoadClient(threading.Thread):
    """One simulated user: its own token, connection, random stream and acknowledged writes."""

    def __init__(self, index, key, port, plan, deadline):
        super().__init__(daemon=True)
        self.index, self.port, self.plan, self.deadline = index, port, plan, deadline
        self.headers = {"Authorization": f"token {key}", "Content-Type": "application/json"}
        self.random = random.Random(index)
        self.connection = None
        self.latencies = defaultdict(list)
        self.statuses = Counter()
        self.failures = []
        self.metrics = {}  # metric row id -> (experiment id, values)
        self.descriptions = {}  # experiment id -> last acknowledged description
        self.bookmarked = False
        self.stopped = set()
        self.mine = plan["experiments"][index :: plan["clients"]]

    def request(self, kind, method, path, body=None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        start = time.perf_counter()
        try:
            self.connection.request(
                method, path, body=None if body is None else json.dumps(body), headers=self.headers
            )
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.connection = None
            self.statuses["connection error"] += 1
            self.failures.append(f"{method} {path}: {exc!r}")
            return None, None
        self.latencies[kind].append(time.perf_counter() - start)
        self.statuses[f"{response.status // 100}xx"] += 1
        if response.status >= 400:
            self.failures.append(f"{method} {path}: {response.status} {data[:200]!r}")
        if response.will_close:
            self.connection.close()
            self.connection = None
        return response.status, data

    def run(self):
        kinds = [kind for kind, weight in MIX for _ in range(weight)]
        group, seq = self.plan["group"], 0
        while time.monotonic() < self.deadline:
            seq += 1
            kind = self.random.choice(kinds)
            if kind == "read":
                self.read(group)
            elif kind == "bookmark":
                if self.bookmarked:
                    status, _ = self.request(kind, "DELETE", f"{API}/groups/{group}/unbookmark")
                    if status == 204:
                        self.bookmarked = False
                else:
                    status, _ = self.request(kind, "POST", f"{API}/groups/{group}/bookmark")
                    if status == 201:
                        self.bookmarked = True
            elif kind == "edit":
                experiment = self.random.choice(self.mine)
                text = f"client {self.index} edit {seq}"
                status, _ = self.request(
                    kind, "PATCH", f"{API}/experiments/{experiment}", {"description": text}
                )
                if status == 200:
                    self.descriptions[experiment] = text
            elif kind == "metric":
                experiment = self.random.choice(self.plan["experiments"])
                values = {
                    "loss": round(self.random.random(), 6),
                    "load_seq": self.index * 1_000_000 + seq,
                }
                status, data = self.request(
                    kind, "POST", f"{API}/experiments/{experiment}/metrics", {"values": values}
                )
                if status == 201:
                    self.metrics[json.loads(data)["id"]] = (experiment, values)
            else:
                experiment = self.random.choice(self.plan["pending"])
                status, _ = self.request(kind, "POST", f"{API}/experiments/{experiment}/stop")
                if status == 200:
                    self.stopped.add(experiment)
        if self.connection is not None:
            self.connection.close()

    def read(self, group):
        kind = self.random.choice(READS)
        if kind == "read group":
            self.request(kind, "GET", f"{API}/groups/{group}")
        elif kind == "read sorted":
            offset = self.random.randrange(0, len(self.plan["experiments"]) - 20)
            self.request(
                kind,
                "GET",
                f"{API}/experiments?group={group}&limit=20&offset={offset}&sort=-metric.loss",
            )
        elif kind == "read page":
            self.request(kind, "GET", f"{API}/experiments?group={group}")
        else:
            experiment = self.random.choice(self.plan["experiments"])
            self.request(kind, "GET", f"{API}/experiments/{experiment}")


def warm_up(port, key, group, workers):
    """Concurrent reads until every worker has imported the app and answered (not timed)."""

    def reads():
        for _ in range(3):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            connection.request(
                "GET", f"{API}/groups/{group}", headers={"Authorization": f"token {key}"}
            )
            status = connection.getresponse().status
            connection.close()
            if status != 200:
                raise RuntimeError(f"warm-up answered {status}")

    threads = [threading.Thread(target=reads) for _ in range(workers * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def lost_writes(app, clients, data):
    """Acknowledged writes missing from the database, by kind."""
    from sqlalchemy import select

    from dashboard.extensions import db
    from dashboard.models import Experiment, ExperimentMetric
    from dashboard.models.groups import Bookmark
    from dashboard.models.users import User

    lost = Counter()
    with app.app_context():
        acknowledged = {k: v for c in clients for k, v in c.metrics.items()}
        ids = list(acknowledged)
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            stored = {
                row.id: (row.experiment_id, row.values)
                for row in db.session.execute(
                    select(
                        ExperimentMetric.id, ExperimentMetric.experiment_id, ExperimentMetric.values
                    ).where(ExperimentMetric.id.in_(chunk))
                )
            }
            lost["metric"] += sum(1 for i in chunk if stored.get(i) != acknowledged[i])
        edits = {k: v for c in clients for k, v in c.descriptions.items()}
        stored = dict(
            db.session.execute(
                select(Experiment.id, Experiment.description).where(
                    Experiment.id.in_(list(edits) or [0])
                )
            ).all()
        )
        lost["edit"] = sum(1 for i, text in edits.items() if stored.get(i) != text)
        marked = set(
            db.session.scalars(
                select(User.username)
                .join(Bookmark, Bookmark.user_id == User.id)
                .where(Bookmark.group_id == data["groups"][max(data["groups"])])
            )
        )
        lost["bookmark"] = sum(1 for c in clients if (f"member{c.index}" in marked) != c.bookmarked)
        stops = {e for c in clients for e in c.stopped}
        statuses = dict(
            db.session.execute(
                select(Experiment.id, Experiment.status).where(
                    Experiment.id.in_(list(stops) or [0])
                )
            ).all()
        )
        lost["stop"] = sum(1 for e in stops if statuses.get(e) != "stopped")
    counts = {
        "metric": len(acknowledged),
        "edit": len(edits),
        "bookmark": len(clients),
        "stop": len(stops),
    }  # edit, stop: distinct experiments
    return lost, counts


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    given = os.environ.get("DATABASE_URL")
    with nullcontext(given) if given else fill.postgres() as url:
        app = fill.setup_app(url)
        data = fill.prepare(app, [args.size], members=args.clients, pending=PENDING)
        plan = {
            "group": data["groups"][args.size],
            "experiments": data["experiments"][args.size],
            "pending": data["pending_experiments"],
            "clients": args.clients,
        }
        port = fill.free_port()
        with fill.gunicorn(args.workers, port, url, threads=args.threads, timeout=120):
            warm_up(port, data["key"], plan["group"], args.workers)
            deadline = time.monotonic() + args.duration
            clients = [
                LoadClient(i, key, port, plan, deadline)
                for i, key in enumerate(data["member_keys"])
            ]
            started = time.monotonic()
            for client in clients:
                client.start()
            for client in clients:
                client.join(args.duration + 120)
            elapsed = time.monotonic() - started
        lost, counts = lost_writes(app, clients, data)
    report(args, clients, elapsed, lost, counts)


def report(args, clients, elapsed, lost, counts):
    by_kind = defaultdict(list)
    statuses = Counter()
    for client in clients:
        statuses.update(client.statuses)
        for kind, values in client.latencies.items():
            by_kind[kind] += values
    everything = [v for values in by_kind.values() for v in values]
    done = sum(statuses.values())
    print(
        f"\n{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}); {args.clients} "
        f"clients for {args.duration:g} s against "
        f"gunicorn ({args.workers} workers x {args.threads} threads) + PostgreSQL, "
        f"{args.size} experiments"
    )
    print(
        f"requests done: {done} in {elapsed:.1f} s ({done / elapsed:.1f}/s); answers: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    )
    print(f"{'kind':<12} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for kind in READS + tuple(kind for kind, _ in MIX[1:]):
        values = by_kind.get(kind, [])
        print(
            f"{kind:<12} {len(values):>7} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f}"
        )
    print(
        f"{'all':<12} {len(everything):>7} {statistics.median(everything) * 1000:>8.1f} "
        f"{percentile(everything, 0.99) * 1000:>8.1f}"
    )
    failures = [f for client in clients for f in client.failures]
    for failure in failures[:10]:
        print("  failed:", failure)
    print(
        "acknowledged writes checked: metric rows {metric}, last edits of {edit} experiments, "
        "bookmark states of {bookmark} users, stops of {stop} experiments".format(**counts)
    )
    print(
        f"5xx: {statuses.get('5xx', 0)} (target 0); other failures: "
        f"{len(failures) - statuses.get('5xx', 0)}; lost writes: "
        + ", ".join(f"{k} {lost[k]}" for k in counts)
        + " (target 0)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
