"""Shared by the comparative benchmarks: fill groups fast, and run PostgreSQL and gunicorn.

The filler is a copy of benchmarks/scale.py's (grid groups of 5 params, 3 metrics with 20 points
each, finished with direct inserts). Servers listen on 127.0.0.1 only and are stopped by PID.
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
atexit.register(shutil.rmtree, TMP, True)
os.environ.setdefault("DASHBOARD_INSTANCE", str(TMP))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, insert, select, text, update  # noqa: E402

from config import TestingConfig  # noqa: E402
from dashboard import create_app  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.models import Experiment, ExperimentMetric, ExperimentValue  # noqa: E402
from dashboard.models.types import utcnow  # noqa: E402
from dashboard.services.group.groups import create_group  # noqa: E402
from dashboard.services.project import projects  # noqa: E402
from dashboard.services.project.access import project_access  # noqa: E402
from dashboard.services.user import users  # noqa: E402

METRICS = ("loss", "accuracy", "f1")
POINTS = 20
PASSWORD = "bench-password"
SECRET_KEY = "benchmark-only-secret-key"


def polyaxonfile(n):
    """A grid of exactly n combinations over five params (n = a * 5 * 4 * 2 * 5)."""
    first = max(1, n // 200)
    return (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 4\n"
        f"  grid_search: {{n_experiments: {n}}}\n  matrix:\n"
        f"    lr: {{linspace: 0.0001:0.1:{first}}}\n"
        "    dropout: {values: [0.1, 0.2, 0.3, 0.4, 0.5]}\n"
        "    layers: {range: [1, 5, 1]}\n    activation: {values: [relu, tanh]}\n"
        "    batch: {values: [16, 32, 64, 128, 256]}\n"
        "run:\n  cmd: echo {{ lr }}\n"
    )


def metric_values(n, step):
    """The three metrics of the n-th experiment at a step (the peers load the same numbers)."""
    return {
        "loss": 1.0 / (step + 1) + (n % 97) / 100,
        "accuracy": 0.5 + step / 50,
        "f1": ((n * 7) % 100) / 100,
    }


def fill(group, *, points=POINTS, values=metric_values):
    """Finish every experiment with `points` reports of three metrics (values(n, step))."""
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    now = utcnow()
    # Value rows carry their group where the schema has that column (migration 0005 on).
    denormalised = {"group_id": group.id} if "group_id" in ExperimentValue.__table__.c else {}
    metric_rows, value_rows, finished = [], [], []
    for n, experiment_id in enumerate(ids):
        last = {}
        for step in range(points):
            reported = values(n, step)
            metric_rows.append(
                {
                    "experiment_id": experiment_id,
                    "values": reported,
                    "created_at": now + timedelta(seconds=step),
                }
            )
            last = reported
        for name in METRICS:
            value_rows.append(
                {
                    "experiment_id": experiment_id,
                    "kind": "metric",
                    "name": name,
                    "num_value": last[name],
                    "text_value": str(last[name]),
                    **denormalised,
                }
            )
        finished.append(
            {
                "id": experiment_id,
                "status": "succeeded",
                "started_at": now,
                "finished_at": now + timedelta(seconds=points),
                "last_metric": last,
            }
        )
    for start in range(0, len(metric_rows), 20000):
        db.session.execute(insert(ExperimentMetric), metric_rows[start : start + 20000])
    db.session.execute(insert(ExperimentValue), value_rows)
    db.session.execute(update(Experiment), finished)  # bulk update by primary key
    db.session.commit()


def setup_app(database_url):
    """An app on database_url with the schema built (cheap password hashes for bench users)."""
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_url})
    app = create_app(config)
    with app.app_context():
        upgrade()
    return app


def prepare(app, sizes, *, members=0, pending=0):
    """Owner `bench` with a token, project bench/bench, one filled group per size, `members`
    extra member users with tokens and, if asked, a group of `pending` unstarted experiments.

    Returns a dict: owner, key, groups {size: id}, experiments {size: [ids]}, member_keys,
    pending_group, pending_experiments.
    """
    with app.app_context():
        owner = users.create_user("bench", PASSWORD)
        out = {
            "owner": "bench",
            "key": users.create_token(owner)[1],
            "groups": {},
            "experiments": {},
            "member_keys": [],
        }
        projects.create_project(actor=owner, name="bench")
        access = project_access("bench", "bench", actor=owner)
        for size in sizes:
            start = time.perf_counter()
            group = create_group(access, content=polyaxonfile(size))
            fill(group)
            out["groups"][size] = group.id
            out["experiments"][size] = _experiment_ids(group.id)
            print(f"filled {size} experiments in {time.perf_counter() - start:.1f} s", flush=True)
        for n in range(members):
            user = users.create_user(f"member{n}", PASSWORD)
            projects.add_member("bench", "bench", user.username, "member", actor=owner)
            out["member_keys"].append(users.create_token(user)[1])
        if pending:
            group = create_group(access, content=polyaxonfile(pending))
            out["pending_group"] = group.id
            out["pending_experiments"] = _experiment_ids(group.id)
    return out


def _experiment_ids(group_id):
    return db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group_id).order_by(Experiment.id)
    ).all()


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=60):
    """Wait until something accepts on 127.0.0.1:port; fail if the process died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(process, grace=10):
    """Stop a server we started, by PID: SIGTERM to its process group, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@contextmanager
def server(command, port, *, env=None, cwd=None, log=None):
    """Run a server command in its own process group until the block ends."""
    with open(log or os.devnull, "w") as output:
        process = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_port(port, process)
            yield process
        finally:
            stop(process)


def gunicorn(
    workers, port, database_url, *, threads=1, timeout=30, app="wsgi:app", chdir=ROOT, log=None
):
    """Our app (or another WSGI app) under the .venv's gunicorn, production config; sync
    workers, or gthread ones when threads > 1."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        str(timeout),
        "--chdir",
        str(chdir),
    ]
    if threads > 1:
        command += ["-k", "gthread", "--threads", str(threads)]
    command.append(app)
    env = {
        "FLASK_CONFIG": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "DASHBOARD_INSTANCE": str(TMP),
    }
    return server(command, port, env=env, log=log)


@contextmanager
def postgres(*, never_analysed=False):
    """A throwaway PostgreSQL cluster from scripts/postgres.sh; yields its SQLAlchemy URL.

    never_analysed: autovacuum off, so the planner has no statistics until VACUUM ANALYZE.
    """
    start = "pg_start_never_analysed" if never_analysed else "pg_start"
    started = subprocess.run(
        [
            "bash",
            "-c",
            f"set -e; source scripts/postgres.sh; {start}; "
            'echo "$PG_URL"; echo "$PG_DIR"; echo "$PG_BIN"',
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    url, folder, bindir = started.stdout.split()[-3:]
    try:
        yield url
    finally:
        subprocess.run(
            [
                "bash",
                "-c",
                f"source scripts/postgres.sh; PG_DIR='{folder}' PG_BIN='{bindir}' pg_stop",
            ],
            cwd=ROOT,
            check=False,
        )


def vacuum_analyse(url):
    """VACUUM ANALYZE a PostgreSQL database: the statistics autovacuum gathers in time."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def statistics_state(url):
    """(autovacuum on, names of the tables with planner statistics) of a PostgreSQL database."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            autovacuum = connection.execute(text("SHOW autovacuum")).scalar() == "on"
            tables = connection.scalars(
                text(
                    "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() "
                    "ORDER BY tablename"
                )
            ).all()
    finally:
        engine.dispose()
    return autovacuum, tables


def session_cookie(port):
    """Sign in as the bench owner through the login form; returns the Cookie header value."""
    import http.client
    import re

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": token, "username": "bench", "password": PASSWORD})
    conn.request(
        "POST",
        "/login",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status not in (302, 303):
        raise RuntimeError(f"login answered {response.status}")
    return response.getheader("Set-Cookie").split(";")[0]
