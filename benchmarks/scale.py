"""Measures the results pages and API at 10,000 experiments against the same at 100.

Fills two grid groups (5 params, 3 metrics, 20 metric points per experiment), then prints for
each request its SQL statements and median time on both, with the ratio, and the time and peak
Python memory of the full CSV export. SQLite in a temp dir, or DATABASE_URL when set.

Usage: python benchmarks/scale.py [BIG] [SMALL]   (default 10000 100)
"""

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
TMP = Path(tempfile.mkdtemp(prefix="dashboard-scale-"))
os.environ.setdefault("DASHBOARD_INSTANCE", str(TMP))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert, select, update  # noqa: E402

from config import TestingConfig  # noqa: E402
from dashboard import create_app  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.models import Experiment, ExperimentMetric, ExperimentValue  # noqa: E402
from dashboard.models.types import utcnow  # noqa: E402
from dashboard.services import projects, users  # noqa: E402
from dashboard.services.access import project_access  # noqa: E402
from dashboard.services.groups import create_group  # noqa: E402

METRICS = ("loss", "accuracy", "f1")
POINTS = 20


class ScaleConfig(TestingConfig):
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'scale.db'}"
    WTF_CSRF_ENABLED = False  # the benchmark signs in with a plain form post


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


def fill(group):
    """Finish every experiment with 20 points of three metrics."""
    ids = db.session.scalars(select(Experiment.id).where(Experiment.group_id == group.id)
                             .order_by(Experiment.id)).all()
    now = utcnow()
    metric_rows, value_rows = [], []
    for n, experiment_id in enumerate(ids):
        last = {}
        for step in range(POINTS):
            values = {"loss": 1.0 / (step + 1) + (n % 97) / 100, "accuracy": 0.5 + step / 50,
                      "f1": ((n * 7) % 100) / 100}
            metric_rows.append({"experiment_id": experiment_id, "values": values,
                                "created_at": now + timedelta(seconds=step)})
            last = values
        for name in METRICS:
            value_rows.append({"experiment_id": experiment_id, "group_id": group.id,
                               "kind": "metric", "name": name,
                               "num_value": last[name], "text_value": str(last[name])})
    for start in range(0, len(metric_rows), 20000):
        db.session.execute(insert(ExperimentMetric), metric_rows[start:start + 20000])
    db.session.execute(insert(ExperimentValue), value_rows)
    db.session.execute(update(Experiment).where(Experiment.group_id == group.id).values(
        status="succeeded", started_at=now, finished_at=now + timedelta(seconds=POINTS),
        last_metric={"loss": 0.5, "accuracy": 0.88, "f1": 0.5}))
    db.session.commit()


def measure(client, url, repeat=7):
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    client.get(url)  # warm-up
    event.listen(db.engine, "before_cursor_execute", listener)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements) / repeat, statistics.median(times) * 1000


def export(client, url):
    tracemalloc.start()
    start = time.perf_counter()
    response = client.get(url, buffered=False)
    rows = sum(chunk.count(b"\n") for chunk in response.response) - 1
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows, elapsed, peak


def main(big, small):
    app = create_app(ScaleConfig)
    with app.app_context():
        upgrade()
        owner = users.create_user(f"scale{int(time.time())}", "scale-password")
        key = users.create_token(owner)[1]
        projects.create_project(actor=owner, name="scale")
        access = project_access(owner.username, "scale", actor=owner)
        groups = {}
        for size in (small, big):
            start = time.perf_counter()
            groups[size] = create_group(access, content=polyaxonfile(size))
            fill(groups[size])
            print(f"filled {size} experiments in {time.perf_counter() - start:.1f} s")
        client = app.test_client()
        client.post("/login", data={"username": owner.username, "password": "scale-password"})
        api_client = app.test_client()
        api_client.environ_base["HTTP_AUTHORIZATION"] = f"token {key}"
        page = f"/{owner.username}/scale/groups/{{id}}/"
        api = f"/api/v1/{owner.username}/scale"
        requests = [
            ("group page", client, page),
            ("sorted filtered table", client,
             page + "?sort=-metric.loss&query=metric.accuracy:>0.5,params.batch:>=32&page=3"),
        ] + [(f"plot {name}", api_client, f"{api}/groups/{{id}}/plots/{name}/?metric=loss")
             for name in ("metric", "parallel", "scatter", "importance")]
        print(f"\n{'request':<26} {'q ' + str(small):>8} {'q ' + str(big):>8} "
              f"{'ms ' + str(small):>10} {'ms ' + str(big):>10} {'ratio':>6}")
        for label, who, url in requests:
            q_small, ms_small = measure(who, url.format(id=groups[small].id))
            q_big, ms_big = measure(who, url.format(id=groups[big].id))
            print(f"{label:<26} {q_small:>8.0f} {q_big:>8.0f} {ms_small:>10.1f} {ms_big:>10.1f} "
                  f"{ms_big / ms_small:>6.2f}")
        for size in (small, big):
            rows, seconds, peak = export(
                api_client, f"{api}/experiments/?group={groups[size].id}&format=csv")
            print(f"CSV export of {rows} rows: {seconds:.2f} s, peak Python memory "
                  f"{peak / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [10000, 100][len(args):]))
