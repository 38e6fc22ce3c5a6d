"""Batched metric ingestion, points per second: ours beside MLflow's log-batch, on one PostgreSQL.

Starts a throwaway PostgreSQL cluster (scripts/postgres.sh) and fills a 100-experiment group.
Ours: gunicorn as production serves it (benchmarks/serving.py: gunicorn.conf.py, gthread,
production config, 2 workers). Clients (8 threads, each with its own kept-alive connection, on
the same machine) post batches of 1,000 points (the tracking client's list form: one report of
one value each, `{"values": {"loss": ...}}`) to the group's experiments in turn for 20 s, with a
member's token; then the stored rows are counted against the acknowledged ones.

The peer: MLflow's own tracking server (benchmarks/.venv-peers, from requirements-peers.txt when
missing; `mlflow server`, 2 workers, its job runner off) on a database of its own in the same
PostgreSQL server, fed the same way through `runs/log-batch` (1,000 metrics a call, its limit:
key, value, timestamp, a step unique per point) across 100 runs. Its stored rows are counted too.

A point is one metric value. Prints points/s for each, the ratio, the machine's load, and lost
points (acknowledged but not stored). Goal: ours >= 100,000 points/s.

Usage: python benchmarks/ingest.py [--duration S] [--clients N] [--batch B] [--no-peer]
"""

import argparse
import http.client
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fill  # noqa: E402
import serving  # noqa: E402

API = "/api/v1/bench/bench"
MLFLOW = "/api/2.0/mlflow"
EXPERIMENTS = 100


class Driver:
    """Client threads posting bodies made by make(n) to paths in turn until a deadline."""

    def __init__(self, port, headers, paths, make, clients, duration):
        self.port, self.headers, self.paths, self.make = port, headers, paths, make
        self.clients, self.duration = clients, duration
        self.counter = itertools.count()
        self.points, self.requests, self.failures = 0, 0, []
        self.lock = threading.Lock()

    def _client(self, deadline):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {**self.headers, "Content-Type": "application/json"}
        while time.monotonic() < deadline:
            n = next(self.counter)
            body, points = self.make(n)
            connection.request("POST", self.paths[n % len(self.paths)], body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            with self.lock:
                if 200 <= response.status < 300:
                    self.points += points
                    self.requests += 1
                else:
                    self.failures.append(f"{response.status} {data[:200]!r}")
        connection.close()

    def run(self):
        """Points per second over the run."""
        deadline = time.monotonic() + self.duration
        threads = [
            threading.Thread(target=self._client, args=(deadline,)) for _ in range(self.clients)
        ]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.points / (time.monotonic() - start)


def call(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(
        method,
        path,
        body=None if body is None else json.dumps(body),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path} answered {response.status}: {data[:300]!r}")
    return json.loads(data or b"{}")


def ours(url, data, args):
    """(points/s, lost points) of our API."""
    from sqlalchemy import func, select

    from dashboard.extensions import db
    from dashboard.models import ExperimentMetric

    app = data["app"]
    paths = [f"{API}/experiments/{e}/metrics" for e in data["experiments"]]

    def make(n):
        points = [
            {"values": {"loss": ((n * args.batch + i) % 997) / 997}} for i in range(args.batch)
        ]
        return json.dumps(points), args.batch

    port = fill.free_port()
    with serving.production_gunicorn(2, port, url, log=fill.TMP / "ingest.log"):
        Driver(port, data["headers"], paths, make, 2, 2).run()  # warm-up
        with app.app_context():
            before = db.session.scalar(select(func.count()).select_from(ExperimentMetric))
        driver = Driver(port, data["headers"], paths, make, args.clients, args.duration)
        rate = driver.run()
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(ExperimentMetric)) - before
    return rate, driver.points - stored, driver.failures


def mlflow(url, args):
    """(points/s, lost points) of MLflow's tracking server on its own database."""
    import psycopg
    import vs_peers

    python = vs_peers.peer_python()
    server_url = url.replace("+psycopg", "", 1)
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute("CREATE DATABASE mlflow")
    store = url.rsplit("/", 1)[0] + "/mlflow"
    port = fill.free_port()
    command = [
        str(python),
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--backend-store-uri",
        store,
        "--default-artifact-root",
        str(fill.TMP / "mlartifacts"),
    ]
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with fill.server(command, port, env=env, cwd=fill.TMP, log=fill.TMP / "mlflow.log"):
        for _ in range(600):  # the port opens before the workers have imported MLflow
            try:
                call(port, "GET", "/health")
                break
            except (OSError, RuntimeError, ValueError):
                time.sleep(0.1)
        experiment = call(port, "POST", f"{MLFLOW}/experiments/create", {"name": "ingest"})[
            "experiment_id"
        ]
        runs = [
            call(
                port,
                "POST",
                f"{MLFLOW}/runs/create",
                {"experiment_id": experiment, "start_time": int(time.time() * 1000)},
            )["run"]["info"]["run_id"]
            for _ in range(EXPERIMENTS)
        ]
        start_ms = int(time.time() * 1000)

        def make(n):
            run = runs[n % len(runs)]
            metrics = [
                {
                    "key": "loss",
                    "value": ((n * args.batch + i) % 997) / 997,
                    "timestamp": start_ms + n,
                    "step": n * args.batch + i,
                }
                for i in range(args.batch)
            ]
            return json.dumps({"run_id": run, "metrics": metrics}), args.batch

        path = [f"{MLFLOW}/runs/log-batch"]
        Driver(port, {}, path, make, 2, 2).run()  # warm-up
        with psycopg.connect(store.replace("+psycopg", "", 1)) as connection:
            before = connection.execute("SELECT count(*) FROM metrics").fetchone()[0]
        driver = Driver(port, {}, path, lambda n: make(n + 10**6), args.clients, args.duration)
        rate = driver.run()
    with psycopg.connect(store.replace("+psycopg", "", 1)) as connection:
        stored = connection.execute("SELECT count(*) FROM metrics").fetchone()[0] - before
    return rate, driver.points - stored, driver.failures


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args(argv)
    results = {}
    with fill.postgres() as url:
        app = fill.setup_app(url)
        prepared = fill.prepare(app, [EXPERIMENTS])
        data = {
            "app": app,
            "experiments": prepared["experiments"][EXPERIMENTS],
            "headers": {"Authorization": f"token {prepared['key']}"},
        }
        loads = [os.getloadavg()[0]]
        results["ours"] = ours(url, data, args)
        loads.append(os.getloadavg()[0])
        if not args.no_peer:
            try:
                results["MLflow log-batch"] = mlflow(url, args)
            except (subprocess.CalledProcessError, RuntimeError, OSError) as exc:
                print(f"MLflow could not be measured: {exc}", file=sys.stderr)
            loads.append(os.getloadavg()[0])
    report(args, results, loads)


def report(args, results, loads):
    print(
        f"\n{serving.machine_line()}; load average during the runs {min(loads):.1f} to "
        f"{max(loads):.1f}"
    )
    print(
        f"{args.clients} clients x {args.duration:g} s, batches of {args.batch} points "
        f"(one metric value each), {EXPERIMENTS} experiments / runs, one PostgreSQL server; "
        f"servers with 2 workers"
    )
    print(f"{'server':<18} {'points/s':>10} {'lost':>6} {'failed requests':>16}")
    for name, (rate, lost, failures) in results.items():
        print(f"{name:<18} {rate:>10,.0f} {lost:>6} {len(failures):>16}")
        for failure in failures[:3]:
            print(f"    {failure}")
    rate = results["ours"][0]
    print(f"ours: {rate:,.0f} points/s (goal >= 100,000: {'met' if rate >= 100000 else 'NOT met'})")
    if "MLflow log-batch" in results:
        print(f"ours / MLflow: {rate / results['MLflow log-batch'][0]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
