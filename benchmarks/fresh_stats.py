"""The API and pages on PostgreSQL before its statistics catch up, then after ANALYZE.

A team launches a big grid and its metrics stream in; autovacuum has not analysed the new rows
yet, so the planner knows nothing of them. This benchmark builds that state on purpose: a
throwaway cluster with autovacuum off (scripts/postgres.sh), a 10x10 grid (100) and a 100x100
grid (10,000) over params `a` and `b`, each experiment reporting `loss`, `accuracy` and `f1`
once; the app under gunicorn (2 sync workers, the production config); one client. It prints
the median of each request (taken in turn on both groups) never analysed, then again after
VACUUM ANALYZE, beside the issue's targets:

- never analysed, at 10,000: GET group <= 30 ms; first 20 sorted by -metric.loss <= 60 ms;
  first 20 filtered by metric.loss:<0.5,params.a:<50 <= 100 ms; first 20 sorted by metric.loss
  filtered by metric.f1:>0.5 <= 100 ms; group page <= 150 ms; plots/parallel <= 150 ms; and
  each within 2x (+10 ms) of the 100-experiment group;
- analysed: each within 1.5x of the 100-experiment group (reported).

Usage: python benchmarks/fresh_stats.py [--repeat N]   (default 21 requests per URL and size)
"""

import argparse
import http.client
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fill  # noqa: E402

SMALL, BIG = 10, 100  # grid sides: 100 and 10,000 experiments


def grid(side):
    """A side x side grid over params a and b."""
    return (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 4\n  matrix:\n"
        f"    a: {{range: [0, {side}, 1]}}\n    b: {{range: [0, {side}, 1]}}\n"
        "run:\n  cmd: echo {{ a }} {{ b }}\n"
    )


def reported_once(n, step):
    """One report per experiment, spread so that about half match each filter."""
    return {
        "loss": ((n * 37) % 100) / 100,
        "accuracy": ((n * 53) % 100) / 100,
        "f1": ((n * 7) % 100) / 100,
    }


def prepare(app):
    """The bench owner, its token and the two filled groups: {side: group id}."""
    from dashboard.services.group.groups import create_group
    from dashboard.services.project import projects
    from dashboard.services.project.access import project_access
    from dashboard.services.user import users

    with app.app_context():
        owner = users.create_user("bench", fill.PASSWORD)
        key = users.create_token(owner)[1]
        projects.create_project(actor=owner, name="bench")
        access = project_access("bench", "bench", actor=owner)
        groups = {}
        for side in (SMALL, BIG):
            start = time.perf_counter()
            group = create_group(access, content=grid(side))
            fill.fill(group, points=1, values=reported_once)
            groups[side] = group.id
            print(
                f"filled {side * side} experiments in {time.perf_counter() - start:.1f} s",
                flush=True,
            )
    return key, groups


def requests_of(key, cookie):
    """(label, path template, headers, target ms or None) of every request measured."""
    api = "/api/v1/bench/bench/groups/{id}"
    token = {"Authorization": f"token {key}"}
    page = {"Cookie": cookie}
    return [
        ("GET group", api + "/", token, 30),
        ("first 20 by -metric.loss", api + "/experiments/?limit=20&sort=-metric.loss", token, 60),
        (
            "first 20 loss<0.5, a<50",
            api + "/experiments/?limit=20&query=metric.loss:<0.5,params.a:<50",
            token,
            100,
        ),
        (
            "first 20 by loss, f1>0.5",
            api + "/experiments/?limit=20&sort=metric.loss&query=metric.f1:>0.5",
            token,
            100,
        ),
        ("group page", "/bench/bench/groups/{id}/", page, 150),
        ("plots/parallel", api + "/plots/parallel/?metric=loss", token, 150),
        (
            "table count fragment",
            "/bench/bench/groups/{id}/experiments/count?query=metric.loss:<0.5",
            {**page, "HX-Request": "true"},
            None,
        ),
        ("plots/metric", api + "/plots/metric/?metric=loss", token, None),
    ]


def get(port, path, headers):
    """Milliseconds of one GET on a new connection (sync workers close it); must be a 200."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}")
    return elapsed


def measure(port, requests, groups, repeat):
    """{label: (ms at 100, ms at 10,000)}: medians, the two groups' requests taken in turn."""
    out = {}
    for label, path, headers, _ in requests:
        urls = [path.format(id=groups[side]) for side in (SMALL, BIG)]
        for url in urls:
            get(port, url, headers)  # warm-up (each worker's first request pays its set-up)
            get(port, url, headers)
        times = [[], []]
        for _ in range(repeat):
            for index, url in enumerate(urls):
                times[index].append(get(port, url, headers))
        out[label] = tuple(statistics.median(t) for t in times)
    return out


def report(title, results, requests, *, fresh):
    print(f"\n{title}\n{'request':<26} {'ms 100':>8} {'ms 10,000':>10} {'ratio':>6}  goal")
    for label, _, _, target in requests:
        small, big = results[label]
        ratio = big / small
        if fresh and target is not None:
            met = big <= target and big <= 2 * small + 10
            goal = f"<= {target} ms and <= 2x+10 ms: {'met' if met else 'NOT met'}"
        elif not fresh:
            goal = f"<= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}"
        else:
            goal = "(reported)"
        print(f"{label:<26} {small:>8.1f} {big:>10.1f} {ratio:>6.2f}  {goal}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    with open("/proc/loadavg") as handle:
        print(f"load average before: {handle.read().split()[0]}")
    with fill.postgres(never_analysed=True) as url:
        app = fill.setup_app(url)
        key, groups = prepare(app)
        port = fill.free_port()
        with fill.gunicorn(2, port, url):
            cookie = fill.session_cookie(port)
            requests = requests_of(key, cookie)
            fresh = measure(port, requests, groups, args.repeat)
            report(
                "Never analysed (autovacuum off), gunicorn 2 sync workers, one client:",
                fresh,
                requests,
                fresh=True,
            )
            fill.vacuum_analyse(url)
            analysed = measure(port, requests, groups, args.repeat)
            report("After VACUUM ANALYZE:", analysed, requests, fresh=False)
    with open("/proc/loadavg") as handle:
        print(f"\nload average after: {handle.read().split()[0]}")


if __name__ == "__main__":
    main()
