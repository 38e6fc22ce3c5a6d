"""The same 10,000 runs in MLflow's tracking server, Optuna Dashboard and this dashboard.

Each run: 5 params (our grid of benchmarks/fill.py), 3 metrics (loss, accuracy, f1) with 20 steps
each, finished. Everything on SQLite, or on PostgreSQL (below). Ours: gunicorn with 2 workers, the
production config, filled by benchmarks/fill.py. The peers run from benchmarks/.venv-peers (made
from benchmarks/requirements-peers.txt when missing), each in its best configuration: SQLite 3.51
from pysqlite3-binary in place of Debian 12's 3.40 (which makes MLflow's sorted search ~100x
slower), MLflow's own server (`mlflow server`, uvicorn) with one worker per core and its background
job runner off (not needed to track runs; its consumers otherwise take the cores), Optuna Dashboard
under gunicorn. Both peers are loaded with direct inserts into their own schemas, created by their
own clients (MLflow's client takes ~60 ms a run, Optuna's add_trials ~40 ms a trial). In Optuna the
loss series is the objective's intermediate values (its last value the objective), accuracy and f1
are user attributes holding their 20 values.

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
Targets on SQLite: sorted <= 1/4 of MLflow and <= 1.5x our own 100-run time; filtered <= 1/20
of MLflow; everything <= 1/10 of MLflow; our group page <= 1/20 of Optuna Dashboard's study load
(the next requests).

With --postgres, all three on one throwaway PostgreSQL server with autovacuum off
(scripts/postgres.sh, pg_start_never_analysed): ours in its database, MLflow and Optuna in one
each, loaded the same way (COPY in place of SQLite's inserts; psycopg pinned in the peers'
requirements). Every case is measured twice, each time on freshly started servers: never
analysed (the planner has no statistics, as on a live server right after a big grid is created
and before autovacuum comes), then after VACUUM ANALYZE of every database. A warning is printed
if any database had statistics in the first pass. Targets there: sorted <= 1/4 of MLflow,
filtered <= 1/3, everything <= 1/10 (and the two of ours above, reported). A request that fails
(past the 30 s statement timeout, say) is printed as failed with its answer, not timed again.

Usage: python benchmarks/vs_peers.py [--runs N] [--repeat R] [--postgres]   (default 10000, 7)
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

PEER_LOADER = r"""
import json
import sqlite3
import sys
import time
import uuid


def insert(store, rows):
    # rows: {table: (columns, values)}; SQLite by executemany, PostgreSQL by COPY.
    if store.startswith("sqlite:///"):
        connection = sqlite3.connect(store[len("sqlite:///"):])
        for table, (columns, values) in rows.items():
            marks = ",".join("?" * len(columns))
            connection.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})",
                                   values)
        connection.commit()
        connection.close()
        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(store.replace("+psycopg", "", 1)) as connection:
        for table, (columns, values) in rows.items():
            with connection.cursor().copy(
                    f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        version = connection.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version.split()[0]}"


def load_mlflow(store, runs, artifacts):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store)
    experiment = client.create_experiment("bench", artifact_location=artifacts)
    start = int(time.time() * 1000)
    rows = {
        "runs": (("run_uuid", "name", "source_type", "source_name", "entry_point_name", "user_id",
                  "status", "start_time", "end_time", "source_version", "lifecycle_stage",
                  "artifact_uri", "experiment_id", "deleted_time"), []),
        "tags": (("key", "value", "run_uuid"), []),
        "params": (("key", "value", "run_uuid"), []),
        "metrics": (("key", "value", "timestamp", "run_uuid", "step", "is_nan"), []),
        "latest_metrics": (("key", "value", "timestamp", "step", "is_nan", "run_uuid"), []),
    }
    for n, run in enumerate(runs):
        rid = uuid.uuid4().hex
        name = f"run-{n}"
        rows["runs"][1].append((rid, name, "UNKNOWN", "", "", "bench", "FINISHED", start + n,
                                start + n + 20000, "", "active", f"{artifacts}/{rid}/artifacts",
                                int(experiment), None))
        rows["tags"][1].extend([("mlflow.runName", name, rid), ("mlflow.user", "bench", rid)])
        rows["params"][1].extend((key, str(value), rid) for key, value in run["params"].items())
        for key, series in run["metrics"].items():
            rows["metrics"][1].extend((key, value, start + n + step * 1000, rid, step, False)
                                      for step, value in enumerate(series))
            rows["latest_metrics"][1].append((key, series[-1], start + n + 19000,
                                              len(series) - 1, False, rid))
    database = insert(store, rows)
    print(json.dumps({"experiment": experiment, "run": rows["runs"][1][len(runs) // 2][0],
                      "database": database}))


def load_optuna(store, runs):
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
    study = optuna.create_study(study_name="bench", storage=store)
    sid = study._study_id
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    rows = {
        "trials": (("trial_id", "number", "study_id", "state", "datetime_start",
                    "datetime_complete"), []),
        "trial_params": (("trial_id", "param_name", "param_value", "distribution_json"), []),
        "trial_values": (("trial_id", "objective", "value", "value_type"), []),
        "trial_intermediate_values": (("trial_id", "step", "intermediate_value",
                                       "intermediate_value_type"), []),
        "trial_user_attributes": (("trial_id", "key", "value_json"), []),
    }
    for n, run in enumerate(runs):
        tid = n + 1
        rows["trials"][1].append((tid, n, sid, "COMPLETE", now, now))
        for name, value in run["params"].items():
            rows["trial_params"][1].append(
                (tid, name, distributions[name].to_internal_repr(value), as_json[name]))
        loss = run["metrics"]["loss"]
        rows["trial_values"][1].append((tid, 0, loss[-1], "FINITE"))
        rows["trial_intermediate_values"][1].extend((tid, step, value, "FINITE")
                                                    for step, value in enumerate(loss))
        rows["trial_user_attributes"][1].extend((tid, name, json.dumps(run["metrics"][name]))
                                                for name in ("accuracy", "f1"))
    database = insert(store, rows)
    print(json.dumps({"study": sid, "database": database}))


if __name__ == "__main__":
    kind, store, runs_file = sys.argv[1:4]
    runs = json.loads(open(runs_file).read())
    if kind == "mlflow":
        load_mlflow(store, runs, sys.argv[4])
    else:
        load_optuna(store, runs)
"""


def peer_python():
    """benchmarks/.venv-peers' python, with the pinned peers installed."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {PEER_VENV} ...", file=sys.stderr)
        subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
    probe = subprocess.run(
        [str(python), "-c", "import mlflow, optuna_dashboard, psycopg, pysqlite3"],
        capture_output=True,
    )
    if probe.returncode != 0:
        print(f"installing {PEER_REQUIREMENTS.name} into {PEER_VENV} ...", file=sys.stderr)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(PEER_REQUIREMENTS)], check=True
        )
    return python


class Failure(str):
    """A request that did not answer as expected, in place of its median: what happened."""


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
        """Median seconds of `repeat` calls after the warm-up; check(data) validates answers.

        The first call that fails ends the series and its Failure is returned: a request past
        the server's timeouts would fail every time, 30 s a try.
        """
        times = []
        for attempt in range(repeat + warm_up):
            start = time.perf_counter()
            try:
                elapsed, data = self.call(method, path, body)
                if check:
                    check(data)
            except (RuntimeError, OSError, http.client.HTTPException) as exc:
                return Failure(f"failed after {time.perf_counter() - start:.1f} s: {exc}"[:400])
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
        params = db.session.scalars(
            select(Experiment.params).where(Experiment.group_id == group_id).order_by(Experiment.id)
        ).all()
    return [
        {
            "params": p,
            "metrics": {
                name: [fill.metric_values(n, s)[name] for s in range(fill.POINTS)]
                for name in fill.METRICS
            },
        }
        for n, p in enumerate(params)
    ]


def stores(work, url):
    """{tool: SQLAlchemy URL}: SQLite files in work, or, with url, ours at url and a database
    each for MLflow and Optuna on the same PostgreSQL server."""
    if url is None:
        return {tool: f"sqlite:///{work / (tool + '.db')}" for tool in ("ours", "mlflow", "optuna")}
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for tool in ("mlflow", "optuna"):
            connection.execute(text(f"CREATE DATABASE {tool}"))
    engine.dispose()
    base = make_url(url)
    return {
        "ours": url,
        **{
            tool: base.set(database=tool).render_as_string(hide_password=False)
            for tool in ("mlflow", "optuna")
        },
    }


def load_peer(python, work, kind, *args):
    """Run the peer loader in the peers' venv; returns the JSON it prints."""
    start = time.perf_counter()
    loaded = subprocess.run(
        [str(python), str(work / "peer_loader.py"), kind, *args],
        env={**os.environ, "PYTHONPATH": str(work)},
        check=True,
        capture_output=True,
        text=True,
        cwd=work,
    )
    out = json.loads(loaded.stdout.strip().splitlines()[-1])
    print(f"loaded {kind} in {time.perf_counter() - start:.1f} s ({out['database']})", flush=True)
    return out


def load(args, python, work, where):
    """Fill ours and load the same runs into both peers; returns what the measures need."""
    (work / "sitecustomize.py").write_text(SITECUSTOMIZE)
    (work / "peer_loader.py").write_text(PEER_LOADER)
    app = fill.setup_app(where["ours"])
    data = fill.prepare(app, [SMALL, args.runs])
    runs_file = work / "runs.json"
    runs_file.write_text(json.dumps(our_runs(app, data["groups"][args.runs])))
    with app.app_context():
        fill.db.engine.dispose()  # no idle connection of the filler stays open
    mlflow = load_peer(
        python, work, "mlflow", where["mlflow"], str(runs_file), str(work / "mlartifacts")
    )
    optuna = load_peer(python, work, "optuna", where["optuna"], str(runs_file))
    return {"ours": data, "mlflow": mlflow, "optuna": optuna}


def measure_ours(args, work, url, data):
    """Our API's sorted, filtered, one-run and export requests and our group page."""
    big, small = data["groups"][args.runs], data["groups"][SMALL]
    api = "/api/v1/bench/bench"
    sorted_q = {"limit": 20, "sort": "metric.loss"}
    filtered_q = {"limit": 20, "query": "params.activation:relu,metric.f1:>0.9"}
    port = fill.free_port()
    with fill.gunicorn(2, port, url, log=work / "ours.log"):
        ours = Client(port, {"Authorization": f"token {data['key']}"})
        page = Client(port, {"Cookie": fill.session_cookie(port)})
        r = args.repeat
        return {
            "sorted": ours.median(
                r,
                "GET",
                f"{api}/experiments?" + urlencode({"group": big, **sorted_q}),
                check=expect_count(20),
            ),
            "sorted100": ours.median(
                r,
                "GET",
                f"{api}/experiments?" + urlencode({"group": small, **sorted_q}),
                check=expect_count(20),
            ),
            "filtered": ours.median(
                r,
                "GET",
                f"{api}/experiments?" + urlencode({"group": big, **filtered_q}),
                check=expect_count(20),
            ),
            "filtered_sorted": ours.median(
                r,
                "GET",
                f"{api}/experiments?"
                + urlencode({"group": big, **filtered_q, "sort": "metric.loss"}),
                check=expect_count(20),
            ),
            "one": ours.median(r, "GET", f"{api}/experiments/{data['experiments'][args.runs][0]}"),
            "all": ours.median(
                3,
                "GET",
                f"{api}/experiments?group={big}&format=json",
                check=lambda d: len(json.loads(d)) == args.runs or 1 / 0,
            ),
            "page": page.median(r, "GET", f"/bench/bench/groups/{big}/"),
        }


def measure_mlflow(args, python, work, url, mlflow):
    """MLflow's runs/search sorted and filtered, runs/get, and every page of runs."""
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
        str(os.cpu_count()),
        "--backend-store-uri",
        url,
        "--default-artifact-root",
        str(work / "mlartifacts"),
    ]
    env = {"PYTHONPATH": str(work), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with fill.server(command, port, env=env, cwd=work, log=work / "mlflow.log"):
        client = Client(port)
        client.call("GET", "/health")  # the port opens before the workers have imported
        search = "/api/2.0/mlflow/runs/search"
        experiment = mlflow["experiment"]
        r = args.repeat
        return {
            "sorted": client.median(
                r,
                "POST",
                search,
                {
                    "experiment_ids": [experiment],
                    "max_results": 20,
                    "order_by": ["metrics.loss ASC"],
                },
                check=expect_count(20),
            ),
            "filtered": client.median(
                r,
                "POST",
                search,
                {
                    "experiment_ids": [experiment],
                    "max_results": 20,
                    "filter": "params.activation = 'relu' and metrics.f1 > 0.9",
                },
                check=expect_count(20),
            ),
            "filtered_sorted": client.median(
                r,
                "POST",
                search,
                {
                    "experiment_ids": [experiment],
                    "max_results": 20,
                    "filter": "params.activation = 'relu' and metrics.f1 > 0.9",
                    "order_by": ["metrics.loss ASC"],
                },
                check=expect_count(20),
            ),
            "one": client.median(r, "GET", f"/api/2.0/mlflow/runs/get?run_id={mlflow['run']}"),
            "all": statistics.median(mlflow_all(client, experiment, args.runs) for _ in range(3)),
        }


def measure_optuna(args, work, url, study):
    """Optuna Dashboard's whole-study load: cold (a new server), then the next requests."""
    port = fill.free_port()
    command = [
        str(PEER_VENV / "bin" / "optuna-dashboard"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--server",
        "gunicorn",
        "--quiet",
        url,
    ]
    with fill.server(
        command, port, env={"PYTHONPATH": str(work)}, cwd=work, log=work / "optuna.log"
    ):
        client = Client(port)
        path = f"/api/studies/{study}?after=0"
        cold, body = client.call("GET", path)
        trials = len(json.loads(body)["trials"])
        if trials != args.runs:
            raise RuntimeError(f"Optuna Dashboard returned {trials} trials, not {args.runs}")
        return {
            "cold": cold,
            "size": len(body),
            "all": client.median(min(args.repeat, 3), "GET", path, warm_up=0),
        }


def measure(args, python, work, url=None):
    """Load the three, then time them: once on SQLite; on PostgreSQL (url) never analysed,
    then after VACUUM ANALYZE of every database. Returns [(title, figures)]."""
    where = stores(work, url)
    loaded = load(args, python, work, where)
    if url is None:
        passes = [("SQLite", None)]
    else:
        passes = [
            ("PostgreSQL, never analysed (autovacuum off)", None),
            (
                "PostgreSQL, after VACUUM ANALYZE",
                lambda: [fill.vacuum_analyse(store) for store in where.values()],
            ),
        ]
    out = []
    for title, before in passes:
        if before:
            before()
        load_before = os.getloadavg()[0]
        figures = {
            "ours": measure_ours(args, work, where["ours"], loaded["ours"]),
            "mlflow": measure_mlflow(args, python, work, where["mlflow"], loaded["mlflow"]),
            "optuna": measure_optuna(args, work, where["optuna"], loaded["optuna"]["study"]),
            "load": (load_before, os.getloadavg()[0]),
            "warnings": [],
        }
        if url is not None and before is None:
            for tool, store in where.items():
                autovacuum, tables = fill.statistics_state(store)
                if autovacuum or tables:
                    figures["warnings"].append(
                        f"{tool}'s database was not 'never analysed': autovacuum "
                        f"{'on' if autovacuum else 'off'}, statistics on {', '.join(tables)}"
                    )
        out.append((title, figures))
        print(f"{title}: measured", flush=True)
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="all three on one throwaway PostgreSQL server, autovacuum off",
    )
    args = parser.parse_args(argv)
    python = peer_python()
    work = Path(tempfile.mkdtemp(prefix="vs-peers-"))
    try:
        if args.postgres:
            with fill.postgres(never_analysed=True) as url:
                results = measure(args, python, work, url)
        else:
            results = measure(args, python, work)
    except BaseException:
        for log in sorted(work.glob("*.log")):  # the servers' side of a failure
            print(
                f"--- last lines of {log.name}:",
                *log.read_text().splitlines()[-30:],
                sep="\n",
                file=sys.stderr,
            )
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    targets = POSTGRES_TARGETS if args.postgres else SQLITE_TARGETS
    for title, figures in results:
        print_results(title, figures, args.runs, targets)


# ours / MLflow: (fraction, as printed) per request; None is reported without a target.
SQLITE_TARGETS = {
    "sorted": (1 / 4, "1/4"),
    "filtered": (1 / 20, "1/20"),
    "filtered_sorted": (1 / 20, "1/20"),
    "one": None,
    "all": (1 / 10, "1/10"),
}
POSTGRES_TARGETS = {
    "sorted": (1 / 4, "1/4"),
    "filtered": (1 / 3, "1/3"),
    "filtered_sorted": (1 / 3, "1/3"),
    "one": None,
    "all": (1 / 10, "1/10"),
}


def print_results(title, figures, runs, targets):
    ours, mlflow, optuna = figures["ours"], figures["mlflow"], figures["optuna"]
    failed = lambda *times: any(isinstance(t, Failure) for t in times)  # noqa: E731
    ms = lambda s: "failed" if failed(s) else f"{s * 1000:,.1f} ms"  # noqa: E731
    print(
        f"\n{runs} runs, {title}, {os.cpu_count()} cores (load average "
        f"{figures['load'][0]:.1f} before, {figures['load'][1]:.1f} after); medians"
    )
    for warning in figures["warnings"]:
        print(f"WARNING: {warning}")
    print(f"{'request':<34} {'ours':>12} {'MLflow':>12} {'ours/MLflow':>12}  target")
    for key, label in (
        ("sorted", "first 20 sorted by loss"),
        ("filtered", "first 20 filtered (param+metric)"),
        ("filtered_sorted", "  the same, sorted by loss"),
        ("one", "one run"),
        ("all", "everything (export / all pages)"),
    ):
        ratio = None if failed(ours[key], mlflow[key]) else ours[key] / mlflow[key]
        verdict = (
            ""
            if targets[key] is None
            else f"<= {targets[key][1]}: "
            + ("met" if ratio is not None and ratio <= targets[key][0] else "NOT met")
        )
        shown = "-" if ratio is None else f"{ratio:.3f}"
        print(f"{label:<34} {ms(ours[key]):>12} {ms(mlflow[key]):>12} {shown:>12}  {verdict}")
    if not failed(ours["sorted"], ours["sorted100"]):
        ratio = ours["sorted"] / ours["sorted100"]
        print(
            f"ours sorted first 20: {ms(ours['sorted'])} at {runs} vs {ms(ours['sorted100'])} "
            f"at {SMALL}: {ratio:.2f}x (<= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})"
        )
    print(
        f"Optuna Dashboard whole study: {ms(optuna['cold'])} first (cold), then "
        f"{ms(optuna['all'])} (median of the next requests), {optuna['size'] / 1e6:.1f} MB"
    )
    if not failed(ours["page"], optuna["all"]):
        ratio = ours["page"] / optuna["all"]
        print(
            f"our whole group page (HTML): {ms(ours['page'])}; ours/Optuna next {ratio:.4f} "
            f"(<= 0.05: {'met' if ratio <= 0.05 else 'NOT met'}), ours/Optuna cold "
            f"{ours['page'] / optuna['cold']:.4f}"
        )
    for tool, times in (("ours", ours), ("MLflow", mlflow), ("Optuna Dashboard", optuna)):
        for key, value in times.items():
            if failed(value):
                print(f"{tool} {key}: {value}")


if __name__ == "__main__":
    main(sys.argv[1:])
