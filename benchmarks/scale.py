"""Measures the results pages and API at 10,000 experiments against the same at 100.

Fills two grid groups (5 params, 3 metrics, 20 metric points per experiment), then prints for
each request its SQL statements and median time on both (15 of each, taken in turn), with the
ratio (the analysis plots, curves, contour and edf, also worked out afresh on each request), the
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # fill.py, also when imported
TMP = Path(tempfile.mkdtemp(prefix="dashboard-scale-"))
os.environ.setdefault("DASHBOARD_INSTANCE", str(TMP))

import fill  # noqa: E402  (the groups' filler, shared with the other benchmarks)
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402

from config import TestingConfig  # noqa: E402
from dashboard import create_app  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.services.group import versioned  # noqa: E402
from dashboard.services.group.groups import create_group  # noqa: E402
from dashboard.services.project import projects  # noqa: E402
from dashboard.services.project.access import project_access  # noqa: E402
from dashboard.services.user import users  # noqa: E402


class ScaleConfig(TestingConfig):
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'scale.db'}"
    WTF_CSRF_ENABLED = False  # the benchmark signs in with a plain form post


def measure(client, urls, repeat=15, headers=None, fresh=False):
    """[(statements per request, median ms)] for each url, the urls' requests taken in turn so
    that a slower moment of the machine falls on all of them alike. A url whose request fails
    (past the 30 s statement timeout on PostgreSQL, say) is not asked again: its pair is
    (None, how it failed). fresh: the process's kept answers (services.group.versioned) are
    forgotten before each request, so each works its answer out, as for a running group."""
    gc.collect()  # the fill's garbage is not the requests'
    counted = [0] * len(urls)
    times = [[] for _ in urls]
    failed = [None] * len(urls)
    current = [0]

    def listener(*args):
        counted[current[0]] += 1

    def get(index, url):
        if fresh:
            versioned.answers.clear()
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
        for size in (small, big):
            start = time.perf_counter()
            groups[size] = create_group(access, content=fill.polyaxonfile(size))
            fill.fill(groups[size])
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
            ("group page", client, page, None, False),
            ("sorted filtered table", client, page + view, None, False),
            ("  its count (fragment)", client, page + "experiments/count" + view, htmx, False),
        ] + [
            (f"plot {name}", api_client, plot.replace("{name}", name), None, False)
            for name in ("metric", "parallel", "scatter", "importance", "curves", "contour", "edf")
        ]
        # The analysis plots, each worked out on every request (a running group's version
        # moves with every report, so its plots are never kept).
        requests += [
            (f"plot {name}, worked out", api_client, plot.replace("{name}", name), None, True)
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
            for label, who, path, headers, fresh in requests:
                urls = [path.format(id=groups[size].id) for size in (small, big)]
                (q_small, ms_small), (q_big, ms_big) = measure(
                    who, urls, headers=headers, fresh=fresh
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
