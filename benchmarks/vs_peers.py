"""The same 10,000 runs in MLflow's tracking server, Optuna Dashboard and this dashboard.

Each run: 5 params (our grid of benchmarks/fill.py), 3 metrics (loss, accuracy, f1) with 20 steps
each, finished. Everything on SQLite. Ours: gunicorn with 2 workers, the production config,
filled by benchmarks/fill.py. The peers run from benchmarks/.venv-peers (made from
benchmarks/requirements-peers.txt when missing), each in its best configuration: SQLite 3.51 from
pysqlite3-binary in place of Debian 12's 3.40 (which makes MLflow's sorted search ~100x slower),
MLflow's own server (`mlflow server`, uvicorn) with one worker per core and its background job
runner off (not needed to track runs; its consumers otherwise take the cores), Optuna Dashboard
under gunicorn. Both peers are loaded with direct inserts into their own schemas, created by
their own clients (MLflow's client takes ~60 ms a run, Optuna's add_trials ~40 ms a trial). In
Optuna the loss series is the objective's intermediate values (its last value the objective),
accuracy and f1 are user attributes holding their 20 values.

One client (http.client, a new connection per request, whole body read) times, as medians:
- sorted: the first 20 runs sorted by loss ascending (MLflow runs/search max_results=20);
- filtered: the first 20 with activation = relu and f1 > 0.9 (about 1 run in 20 matches), each
  tool's default order, and the same sorted by loss;
- one run: GET one run by id;
- everything: MLflow pages through all runs (max_results=1000 per page, the API's page token);
  ours: the group's JSON export (format=json); Optuna Dashboard: the whole study
  (`/api/studies/{id}?after=0`, what its page loads and polls; the first request cold, then
  the median of three more: its trial cache lives 10 s, so once a load takes longer than that
  every request reads the study again), beside which we put our whole group page (HTML).
Targets: sorted <= 1/4 of MLflow and <= 1.5x our own 100-run time; filtered <= 1/20 of MLflow;
everything <= 1/10 of MLflow; our group page <= 1/20 of Optuna Dashboard's study load (the
next requests).

Usage: python benchmarks/vs_peers.py [--runs N] [--repeat R]   (default 10000, 7)
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fill  # noqa: E402

PEER_VENV = HERE / ".venv-peers"
PEER_REQUIREMENTS = HERE / "requirements-peers.txt"
SMALL = 100
WARM_UP = 3  # calls before timing: every worker of a 2-worker server has answered once

# Makes every Python started with this folder on PYTHONPATH use pysqlite3's current SQLite.
SITECUSTOMIZE = """
import sys
try:
    import pysqlite3
    sys.modules["sqlite3"] = pysqlite3
    sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2
except ImportError:
    pass
"""

PEER_LOADER = r'''
import json
import sqlite3
import sys
import time
import uuid


def load_mlflow(db, runs, artifacts):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.create_experiment("bench", artifact_location=artifacts)
    start = int(time.time() * 1000)
    rows = {"runs": [], "tags": [], "params": [], "metrics": [], "latest_metrics": []}
    for n, run in enumerate(runs):
        rid = uuid.uuid4().hex
        name = f"run-{n}"
        rows["runs"].append((rid, name, "UNKNOWN", "", "", "bench", "FINISHED", start + n,
                             start + n + 20000, "", "active", f"{artifacts}/{rid}/artifacts",
                             int(experiment), None))
        rows["tags"] += [("mlflow.runName", name, rid), ("mlflow.user", "bench", rid)]
        rows["params"] += [(key, str(value), rid) for key, value in run["params"].items()]
        for key, series in run["metrics"].items():
            rows["metrics"] += [(key, value, start + n + step * 1000, rid, step, 0)
                                for step, value in enumerate(series)]
            rows["latest_metrics"].append((key, series[-1], start + n + 19000, len(series) - 1,
                                           0, rid))
    connection = sqlite3.connect(db)
    for table, values in rows.items():
        marks = ",".join("?" * len(values[0]))
        connection.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    connection.commit()
    connection.close()
    print(json.dumps({"experiment": experiment, "run": rows["runs"][len(runs) // 2][0],
                      "sqlite": sqlite3.sqlite_version}))


def load_optuna(db, runs):
    import optuna
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution, distribution_to_json)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {
        "lr": FloatDistribution(0.0001, 0.1), "dropout": FloatDistribution(0.1, 0.5),
        "layers": IntDistribution(1, 4), "activation": CategoricalDistribution(["relu", "tanh"]),
        "batch": CategoricalDistribution([16, 32, 64, 128, 256]),
    }
    as_json = {name: distribution_to_json(d) for name, d in distributions.items()}
    study = optuna.create_study(study_name="bench", storage=f"sqlite:///{db}")
    sid = study._study_id
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    rows = {"trials": [], "trial_params": [], "trial_values": [],
            "trial_intermediate_values": [], "trial_user_attributes": []}
    for n, run in enumerate(runs):
        tid = n + 1
        rows["trials"].append((tid, n, sid, "COMPLETE", now, now))
        for name, value in run["params"].items():
            rows["trial_params"].append((None, tid, name,
                                         distributions[name].to_internal_repr(value),
                                         as_json[name]))
        loss = run["metrics"]["loss"]
        rows["trial_values"].append((None, tid, 0, loss[-1], "FINITE"))
        rows["trial_intermediate_values"] += [(None, tid, step, value, "FINITE")
                                              for step, value in enumerate(loss)]
        rows["trial_user_attributes"] += [(None, tid, name, json.dumps(run["metrics"][name]))
                                          for name in ("accuracy", "f1")]
    connection = sqlite3.connect(db)
    for table, values in rows.items():
        marks = ",".join("?" * len(values[0]))
        connection.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    connection.commit()
    connection.close()
    print(json.dumps({"study": sid, "sqlite": sqlite3.sqlite_version}))


if __name__ == "__main__":
    kind, db, runs_file = sys.argv[1:4]
    runs = json.loads(open(runs_file).read())
    if kind == "mlflow":
        load_mlflow(db, runs, sys.argv[4])
    else:
        load_optuna(db, runs)
'''


def peer_python():
    """benchmarks/.venv-peers' python, with the pinned peers installed."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {PEER_VENV} ...", file=sys.stderr)
        subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import mlflow, optuna_dashboard, pysqlite3"],
                           capture_output=True)
    if probe.returncode != 0:
        print(f"installing {PEER_REQUIREMENTS.name} into {PEER_VENV} ...", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(PEER_REQUIREMENTS)],
                       check=True)
    return python


class Client:
    """Times requests to one server on 127.0.0.1 (a fresh connection each, body read whole)."""

    def __init__(self, port, headers=None):
        self.port, self.headers = port, headers or {}

    def call(self, method, path, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = dict(self.headers)
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - start
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}: {data[:300]!r}")
        return elapsed, data

    def median(self, repeat, method, path, body=None, check=None, warm_up=WARM_UP):
        """Median seconds of `repeat` calls after the warm-up; check(data) validates answers."""
        times = []
        for attempt in range(repeat + warm_up):
            elapsed, data = self.call(method, path, body)
            if check:
                check(data)
            if attempt >= warm_up:
                times.append(elapsed)
        return statistics.median(times)


def expect_count(count):
    def check(data):
        rows = json.loads(data)
        found = len(rows.get("results", rows.get("runs", [])))
        if found != count:
            raise RuntimeError(f"expected {count} rows, got {found}")
    return check


def mlflow_all(client, experiment, total):
    """Seconds to page through every run with MLflow's page token (1,000 a page)."""
    start, token, seen = time.perf_counter(), None, 0
    while True:
        body = {"experiment_ids": [experiment], "max_results": 1000}
        if token:
            body["page_token"] = token
        _, data = client.call("POST", "/api/2.0/mlflow/runs/search", body)
        page = json.loads(data)
        seen += len(page.get("runs", []))
        token = page.get("next_page_token")
        if not token:
            break
    if seen != total:
        raise RuntimeError(f"MLflow paged {seen} runs, not {total}")
    return time.perf_counter() - start


def our_runs(app, group_id):
    """Our group's runs as the peers load them: params and the three metric series."""
    from sqlalchemy import select

    from dashboard.extensions import db
    from dashboard.models import Experiment

    with app.app_context():
        params = db.session.scalars(select(Experiment.params).where(
            Experiment.group_id == group_id).order_by(Experiment.id)).all()
    return [{"params": p, "metrics": {name: [fill.metric_values(n, s)[name]
                                             for s in range(fill.POINTS)]
                                      for name in fill.METRICS}}
            for n, p in enumerate(params)]


def measure(args, python, work):
    """Load and time the three; returns their figures."""
    (work / "sitecustomize.py").write_text(SITECUSTOMIZE)
    (work / "peer_loader.py").write_text(PEER_LOADER)
    peer_env = {"PYTHONPATH": str(work)}
    results = {}

    # Ours.
    url = f"sqlite:///{work / 'ours.db'}"
    app = fill.setup_app(url)
    data = fill.prepare(app, [SMALL, args.runs])
    big, small = data["groups"][args.runs], data["groups"][SMALL]
    runs_file = work / "runs.json"
    runs_file.write_text(json.dumps(our_runs(app, big)))
    api = "/api/v1/bench/bench"
    sorted_q = {"limit": 20, "sort": "metric.loss"}
    filtered_q = {"limit": 20, "query": "params.activation:relu,metric.f1:>0.9"}
    port = fill.free_port()
    with fill.gunicorn(2, port, url, log=work / "ours.log"):
        ours = Client(port, {"Authorization": f"token {data['key']}"})
        page = Client(port, {"Cookie": fill.session_cookie(port)})
        r = args.repeat
        results["ours"] = {
            "sorted": ours.median(r, "GET", f"{api}/experiments?"
                                  + urlencode({"group": big, **sorted_q}), check=expect_count(20)),
            "sorted100": ours.median(r, "GET", f"{api}/experiments?"
                                     + urlencode({"group": small, **sorted_q}),
                                     check=expect_count(20)),
            "filtered": ours.median(r, "GET", f"{api}/experiments?"
                                    + urlencode({"group": big, **filtered_q}),
                                    check=expect_count(20)),
            "filtered_sorted": ours.median(r, "GET", f"{api}/experiments?" + urlencode(
                {"group": big, **filtered_q, "sort": "metric.loss"}), check=expect_count(20)),
            "one": ours.median(r, "GET", f"{api}/experiments/{data['experiments'][args.runs][0]}"),
            "all": ours.median(3, "GET", f"{api}/experiments?group={big}&format=json",
                               check=lambda d: len(json.loads(d)) == args.runs or 1 / 0),
            "page": page.median(r, "GET", f"/bench/bench/groups/{big}/"),
        }
    print("ours measured", flush=True)

    # MLflow.
    start = time.perf_counter()
    loaded = subprocess.run(
        [str(python), str(work / "peer_loader.py"), "mlflow", str(work / "mlflow.db"),
         str(runs_file), str(work / "mlartifacts")],
        env={**os.environ, **peer_env}, check=True, capture_output=True, text=True, cwd=work)
    mlflow = json.loads(loaded.stdout.strip().splitlines()[-1])
    print(f"loaded MLflow in {time.perf_counter() - start:.1f} s (SQLite {mlflow['sqlite']})",
          flush=True)
    port = fill.free_port()
    command = [str(python), "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(os.cpu_count()),
               "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}",
               "--default-artifact-root", str(work / "mlartifacts")]
    mlflow_env = {**peer_env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with fill.server(command, port, env=mlflow_env, cwd=work, log=work / "mlflow.log"):
        client = Client(port)
        client.call("GET", "/health")  # the port opens before the workers have imported
        search = "/api/2.0/mlflow/runs/search"
        experiment = mlflow["experiment"]
        r = args.repeat
        results["mlflow"] = {
            "sorted": client.median(r, "POST", search, {
                "experiment_ids": [experiment], "max_results": 20,
                "order_by": ["metrics.loss ASC"]}, check=expect_count(20)),
            "filtered": client.median(r, "POST", search, {
                "experiment_ids": [experiment], "max_results": 20,
                "filter": "params.activation = 'relu' and metrics.f1 > 0.9"},
                check=expect_count(20)),
            "filtered_sorted": client.median(r, "POST", search, {
                "experiment_ids": [experiment], "max_results": 20,
                "filter": "params.activation = 'relu' and metrics.f1 > 0.9",
                "order_by": ["metrics.loss ASC"]}, check=expect_count(20)),
            "one": client.median(r, "GET", f"/api/2.0/mlflow/runs/get?run_id={mlflow['run']}"),
            "all": statistics.median(mlflow_all(client, experiment, args.runs) for _ in range(3)),
        }
    print("MLflow measured", flush=True)

    # Optuna Dashboard.
    start = time.perf_counter()
    loaded = subprocess.run(
        [str(python), str(work / "peer_loader.py"), "optuna", str(work / "optuna.db"),
         str(runs_file)], env={**os.environ, **peer_env}, check=True, capture_output=True,
        text=True, cwd=work)
    study = json.loads(loaded.stdout.strip().splitlines()[-1])["study"]
    print(f"loaded Optuna in {time.perf_counter() - start:.1f} s", flush=True)
    port = fill.free_port()
    command = [str(PEER_VENV / "bin" / "optuna-dashboard"), "--host", "127.0.0.1", "--port",
               str(port), "--server", "gunicorn", "--quiet", f"sqlite:///{work / 'optuna.db'}"]
    with fill.server(command, port, env=peer_env, cwd=work, log=work / "optuna.log"):
        client = Client(port)
        path = f"/api/studies/{study}?after=0"
        cold, body = client.call("GET", path)
        trials = len(json.loads(body)["trials"])
        if trials != args.runs:
            raise RuntimeError(f"Optuna Dashboard returned {trials} trials, not {args.runs}")
        results["optuna"] = {"cold": cold, "size": len(body),
                             "all": client.median(min(r, 3), "GET", path, warm_up=0)}
    return results


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    python = peer_python()
    work = Path(tempfile.mkdtemp(prefix="vs-peers-"))
    try:
        results = measure(args, python, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_results(results, args.runs)


def print_results(results, runs):
    ours, mlflow, optuna = results["ours"], results["mlflow"], results["optuna"]
    ms = lambda s: f"{s * 1000:,.1f} ms"  # noqa: E731
    print(f"\n{runs} runs, SQLite, {os.cpu_count()} cores (load average "
          f"{os.getloadavg()[0]:.1f}); medians")
    print(f"{'request':<34} {'ours':>12} {'MLflow':>12} {'ours/MLflow':>12}  target")
    for key, label, target in (("sorted", "first 20 sorted by loss", 0.25),
                               ("filtered", "first 20 filtered (param+metric)", 0.05),
                               ("filtered_sorted", "  the same, sorted by loss", 0.05),
                               ("one", "one run", None),
                               ("all", "everything (export / all pages)", 0.1)):
        ratio = ours[key] / mlflow[key]
        verdict = "" if target is None else \
            f"<= {target:g}: {'met' if ratio <= target else 'NOT met'}"
        print(f"{label:<34} {ms(ours[key]):>12} {ms(mlflow[key]):>12} {ratio:>12.3f}  {verdict}")
    ratio = ours["sorted"] / ours["sorted100"]
    print(f"ours sorted first 20: {ms(ours['sorted'])} at {runs} vs {ms(ours['sorted100'])} at "
          f"{SMALL}: {ratio:.2f}x (<= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")
    ratio = ours["page"] / optuna["all"]
    print(f"Optuna Dashboard whole study: {ms(optuna['cold'])} first (cold), then "
          f"{ms(optuna['all'])} (median of the next requests), {optuna['size'] / 1e6:.1f} MB")
    print(f"our whole group page (HTML): {ms(ours['page'])}; ours/Optuna next {ratio:.4f} "
          f"(<= 0.05: {'met' if ratio <= 0.05 else 'NOT met'}), ours/Optuna cold "
          f"{ours['page'] / optuna['cold']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
