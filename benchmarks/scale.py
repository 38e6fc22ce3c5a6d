"""Measures the results pages and API at 10,000 experiments against the same at 100.

Fills two grid groups (5 params, 3 metrics, 20 metric points per experiment), then prints for
each request its SQL statements and median time on both (15 of each, taken in turn), with the
ratio (the analysis plots, curves, contour and edf, also for a running group, a metric report
landing before each request, and as a process reads them first), the
time and peak Python memory of the full CSV export. The sorted, filtered table page is read
without counting its matches; the count, which the page then loads as a fragment, is a row of
its own. SQLite in a temp dir (measured once: the app never analyses it), or DATABASE_URL when
set: on PostgreSQL every request is measured never analysed first (the planner without
statistics, as on a live server right after a big grid is created), then after VACUUM ANALYZE,
and both tables are printed. That first pass needs a server with autovacuum off and a database
without statistics: `source scripts/postgres.sh; pg_start_never_analysed` starts one
(DATABASE_URL=$PG_URL); the script warns when either is not so, and when statistics appeared
during the pass.

Usage: python benchmarks/scale.py [BIG] [SMALL]   (default 10000 100)
"""

import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # fill.py, also when imported
TMP = Path(tempfile.mkdtemp(prefix="dashboard-scale-"))
os.environ.setdefault("DASHBOARD_INSTANCE", str(TMP))

import fill  # noqa: E402  (the groups' filler, shared with the other benchmarks)
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, select, update  # noqa: E402

from config import TestingConfig  # noqa: E402
from dashboard import create_app  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.models import Experiment  # noqa: E402
from dashboard.models.types import utcnow  # noqa: E402
from dashboard.services.group import versioned  # noqa: E402
from dashboard.services.group.groups import create_group  # noqa: E402
from dashboard.services.plots import group_columns  # noqa: E402
from dashboard.services.project import projects  # noqa: E402
from dashboard.services.project.access import project_access  # noqa: E402
from dashboard.services.user import users  # noqa: E402


class ScaleConfig(TestingConfig):
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'scale.db'}"
    WTF_CSRF_ENABLED = False  # the benchmark signs in with a plain form post


def measure(client, urls, repeat=15, headers=None, before=None):
    """[(statements per request, median ms)] for each url, the urls' requests taken in turn so
    that a slower moment of the machine falls on all of them alike. A url whose request fails
    (past the 30 s statement timeout on PostgreSQL, say) is not asked again: its pair is
    (None, how it failed). before(index): run before each request of urls[index], untimed
    (a metric report on the group, say)."""
    gc.collect()  # the fill's garbage is not the requests'
    counted = [0] * len(urls)
    times = [[] for _ in urls]
    failed = [None] * len(urls)
    current = [0]

    def listener(*args):
        if current[0] is not None:  # None: before() runs, its statements are not the request's
            counted[current[0]] += 1

    def get(index, url):
        if before is not None:
            counting, current[0] = current[0], None
            before(index)
            current[0] = counting
        start = time.perf_counter()
        try:
            status = client.get(url, headers=headers).status_code
        except Exception as exc:  # TESTING propagates some of the views' errors
            status = type(exc).__name__
        elapsed = time.perf_counter() - start
        if status != 200:
            failed[index] = f"failed ({status} after {elapsed:.1f} s)"
            # The requests share the benchmark's app context, so its session: a server's next
            # request would start on a fresh one, not in the failed transaction.
            db.session.rollback()
        return elapsed

    for index, url in enumerate(urls):
        get(index, url)  # warm-up
    event.listen(db.engine, "before_cursor_execute", listener)
    for _ in range(repeat):
        for index, url in enumerate(urls):
            if failed[index] is None:
                current[0] = index
                times[index].append(get(index, url))
    event.remove(db.engine, "before_cursor_execute", listener)
    return [
        (None, failure) if failure else (n / repeat, statistics.median(t) * 1000)
        for n, t, failure in zip(counted, times, failed, strict=True)
    ]


def _stream(client, url):
    response = client.get(url, buffered=False)
    return sum(chunk.count(b"\n") for chunk in response.response) - 1


def export(client, url):
    """(rows, median seconds of 3 runs, peak Python memory of a separate traced run): tracing
    slows every allocation, so the timed runs are untraced."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        rows = _stream(client, url)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    _stream(client, url)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows, statistics.median(times), peak


def statistics_warnings(url, when):
    """Why the figures of a never-analysed pass on PostgreSQL may not be that."""
    autovacuum, tables = fill.statistics_state(url)
    out = []
    if autovacuum:
        out.append(
            "the server's autovacuum is on: it may analyse the new rows at any moment, so "
            "'never analysed' is not guaranteed (pg_start_never_analysed starts one "
            "without it)"
        )
    if tables:
        out.append(f"statistics {when} on: {', '.join(tables)}")
    return [f"WARNING: {line}" for line in out]


RUNNING = 4  # experiments of each group left running, which the reports go to


def as_running(group):
    """Spread the experiments' last changes a second apart over the hours before now, as a
    search that finished one a second, and leave the last RUNNING of them running."""
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    start = utcnow() - timedelta(seconds=len(ids) + 60)
    db.session.execute(
        update(Experiment),
        [{"id": i, "updated_at": start + timedelta(seconds=k)} for k, i in enumerate(ids)],
    )
    db.session.execute(
        update(Experiment)
        .where(Experiment.id.in_(ids[-RUNNING:]))
        .values(status="running", finished_at=None)
    )
    db.session.commit()


def running_reports(client, api, groups):
    """before(index) for measure(): a metric report on one of the running experiments of
    groups[index], in turn, through the API."""
    running = [
        db.session.scalars(
            select(Experiment.id)
            .where(Experiment.group_id == group.id, Experiment.status == "running")
            .order_by(Experiment.id)
        ).all()
        for group in groups
    ]
    sent = [0] * len(groups)

    def report(index):
        sent[index] += 1
        experiment_id = running[index][sent[index] % len(running[index])]
        values = {"loss": 1 / (sent[index] + 1), "accuracy": 0.5, "f1": 0.3}
        response = client.post(
            f"{api}/experiments/{experiment_id}/metrics/", json={"values": values}
        )
        assert response.status_code == 201, response.get_data(as_text=True)

    return report


def settle(filled_at):
    """Wait until the fill's writes are older than the margin within which a poll reads the
    changed experiments again (group_columns.MARGIN): the running group as it stands a minute
    into its search, not in the minute after 10,000 rows were written at once (when each poll
    reads those rows again, as the README says)."""
    left = group_columns.MARGIN.total_seconds() + 5 - (time.monotonic() - filled_at)
    if left > 0:
        print(f"(waiting {left:.0f} s for the fill's writes to pass the margin)")
        time.sleep(left)


def forget(_index):
    """before(index) for measure(): the process forgets what it kept of every group."""
    versioned.answers.clear()
    group_columns.kept.clear()


def main(big, small):
    url = ScaleConfig.SQLALCHEMY_DATABASE_URI
    postgres = url.startswith("postgresql")
    if postgres:
        for warning in statistics_warnings(url, "before the fill"):
            print(warning)
    app = create_app(ScaleConfig)
    with app.app_context():
        upgrade()
        owner = users.create_user(f"scale{int(time.time())}", "scale-password")
        key = users.create_token(owner)[1]
        projects.create_project(actor=owner, name="scale")
        access = project_access(owner.username, "scale", actor=owner)
        groups = {}
        filled_at = None
        for size in (small, big):
            start = time.perf_counter()
            groups[size] = create_group(access, content=fill.polyaxonfile(size))
            fill.fill(groups[size])
            as_running(groups[size])
            filled_at = time.monotonic()
            print(f"filled {size} experiments in {time.perf_counter() - start:.1f} s")
        client = app.test_client()
        client.post("/login", data={"username": owner.username, "password": "scale-password"})
        api_client = app.test_client()
        api_client.environ_base["HTTP_AUTHORIZATION"] = f"token {key}"
        page = f"/{owner.username}/scale/groups/{{id}}/"
        api = f"/api/v1/{owner.username}/scale"
        view = "?sort=-metric.loss&query=metric.accuracy:>0.5,params.batch:>=32&page=3"
        htmx = {"HX-Request": "true"}
        # The table page is read without counting its matches; the page then loads the count.
        plot = f"{api}/groups/{{id}}/plots/{{name}}/?metric=loss"
        requests = [
            ("group page", client, page, None, None),
            ("sorted filtered table", client, page + view, None, None),
            ("  its count (fragment)", client, page + "experiments/count" + view, htmx, None),
        ] + [
            (f"plot {name}", api_client, plot.replace("{name}", name), None, None)
            for name in ("metric", "parallel", "scatter", "importance", "curves", "contour", "edf")
        ]
        # The analysis plots of a running group: a metric report lands before each request
        # (its version moves, so no answer is kept), then as a process reads them first.
        reports = running_reports(api_client, api, [groups[size] for size in (small, big)])
        requests += [
            (f"plot {name}, {label}", api_client, plot.replace("{name}", name), None, before)
            for label, before in (("running", reports), ("first read", forget))
            for name in ("curves", "contour", "edf")
        ]
        if postgres:
            passes = [
                ("PostgreSQL, never analysed", None),
                ("PostgreSQL, after VACUUM ANALYZE", lambda: fill.vacuum_analyse(url)),
            ]
        else:
            passes = [("SQLite", None)]
        for title, before in passes:
            if before:
                before()
            print(f"\n{title} (load average {os.getloadavg()[0]:.1f})")
            print(
                f"{'request':<26} {'q ' + str(small):>8} {'q ' + str(big):>8} "
                f"{'ms ' + str(small):>10} {'ms ' + str(big):>10} {'ratio':>6}"
            )
            for label, who, path, headers, before_each in requests:
                if before_each is reports:
                    settle(filled_at)
                urls = [path.format(id=groups[size].id) for size in (small, big)]
                (q_small, ms_small), (q_big, ms_big) = measure(
                    who, urls, headers=headers, before=before_each
                )
                if q_small is None or q_big is None:
                    print(
                        f"{label:<26} {ms_small if q_small is None else f'{ms_small:.1f} ms'}"
                        f" at {small}, {ms_big if q_big is None else f'{ms_big:.1f} ms'}"
                        f" at {big}"
                    )
                    continue
                print(
                    f"{label:<26} {q_small:>8.0f} {q_big:>8.0f} {ms_small:>10.1f} "
                    f"{ms_big:>10.1f} {ms_big / ms_small:>6.2f}"
                )
            for size in (small, big):
                try:
                    rows, seconds, peak = export(
                        api_client, f"{api}/experiments/?group={groups[size].id}&format=csv"
                    )
                except Exception as exc:  # as measure(): reported, the other rows still run
                    print(f"CSV export of {size} experiments: failed ({type(exc).__name__})")
                    db.session.rollback()
                    continue
                print(
                    f"CSV export of {rows} rows: {seconds:.2f} s, peak Python memory "
                    f"{peak / 1024 / 1024:.1f} MiB"
                )
            if postgres and before is None:
                for warning in statistics_warnings(url, "appeared during this pass"):
                    print(warning)
            print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [10000, 100][len(args) :]))
