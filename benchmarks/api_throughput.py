"""Requests per second under gunicorn + PostgreSQL, as production serves them, against floors.

Fills a group (100 experiments by default: 5 params, 3 metrics x 20 points) in a throwaway
PostgreSQL cluster (scripts/postgres.sh), serves the app with the repository's gunicorn.conf.py
(gthread, production config, request log on; 2 workers by default) and drives each URL with
Debian's `wrk` (installed when missing; 8 connections for 8 s by default, after a 2 s warm-up):

- minimal: a one-line Flask app (`return jsonify(ok=True)`) served the same way;
- `/healthz`: our app's own round trip to the database, no authentication;
- reference: our app plus one route that authenticates the same token as the API does and
  reads one row by primary key (the floor of an authenticated request);
- GET group (`/api/v1/bench/bench/groups/{id}`, token);
- POST one metric point (`{"values": {"loss": ...}}`) to the group's experiments in turn (token);
- GET group again with its ETag in If-None-Match (answers 304: counted, not failures).

Rounds (3 by default) take the URLs in turn so that a busier moment of the machine falls on all
of them alike; each figure is the median of its rounds. Every answer must be a 2xx (the 304 row
excepted); any socket error fails the run. Then checks that GET group and the group page's
polled header fragment each answer 304 to their own ETag.

Targets: GET group >= 0.35 of /healthz, one-point POST >= 0.25 of /healthz; reported: GET
group >= 0.25 of minimal, >= 0.8 of reference.

Usage: python benchmarks/api_throughput.py [--duration S] [--connections C] [--size N]
           [--workers W] [--rounds R]
       (defaults 8 s, 8 connections, 100 experiments, 2 workers, 3 rounds; DATABASE_URL, an
        empty database, instead of a throwaway cluster when set)
"""

import argparse
import http.client
import json
import os
import statistics
import sys
from contextlib import ExitStack, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fill  # noqa: E402
import serving  # noqa: E402

API = "/api/v1/bench/bench"


def conditional(port, path, headers):
    """(first status, ETag, status of the same request sent again with If-None-Match)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers)
    first = connection.getresponse()
    first.read()
    etag = first.getheader("ETag")
    connection.request("GET", path, headers={**headers, "If-None-Match": etag or '"none"'})
    second = connection.getresponse()
    second.read()
    connection.close()
    return first.status, etag, second.status


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    serving.ensure_wrk()
    given = os.environ.get("DATABASE_URL")
    with nullcontext(given) if given else fill.postgres() as url:
        app = fill.setup_app(url)
        data = fill.prepare(app, [args.size])
        group, experiments = data["groups"][args.size], data["experiments"][args.size]
        with app.app_context():
            from dashboard.extensions import db
            from dashboard.models import Project

            project_id = db.session.query(Project.id).scalar()
        token = {"Authorization": f"token {data['key']}"}
        with ExitStack() as stack:
            minimal_port, port = fill.free_port(), fill.free_port()
            stack.enter_context(
                serving.production_gunicorn(
                    args.workers,
                    minimal_port,
                    url,
                    app="bench_app:app",
                    chdir=serving.app_module(serving.MINIMAL_APP),
                )
            )
            stack.enter_context(
                serving.production_gunicorn(
                    args.workers,
                    port,
                    url,
                    app="bench_app:app",
                    chdir=serving.app_module(serving.REFERENCE_APP),
                    log=fill.TMP / "api_throughput.log",
                )
            )
            first, etag, _ = conditional(port, f"{API}/groups/{group}", token)
            if first != 200:
                raise RuntimeError(f"GET group answered {first}")
            metric_paths = [f"{API}/experiments/{e}/metrics" for e in experiments]
            targets = [
                ("minimal route", minimal_port, ["/ping"], {}, {}),
                ("/healthz", port, ["/healthz"], {}, {}),
                (
                    "reference (token + 1 row)",
                    port,
                    [f"/api/v1/_reference/{project_id}"],
                    token,
                    {},
                ),
                ("GET group", port, [f"{API}/groups/{group}"], token, {}),
                (
                    "POST one metric point",
                    port,
                    metric_paths,
                    token,
                    {"method": "POST", "body": json.dumps({"values": {"loss": 0.25}})},
                ),
                (
                    "GET group, If-None-Match",
                    port,
                    [f"{API}/groups/{group}"],
                    {**token, "If-None-Match": etag},
                    {"allow_non_2xx": True},
                ),
            ]
            rates = {label: [] for label, *_ in targets}
            non_2xx = {label: 0 for label, *_ in targets}
            loads = []
            for _, target_port, paths, headers, extra in targets:  # warm-up
                serving.run_wrk(
                    f"http://127.0.0.1:{target_port}",
                    paths,
                    headers,
                    duration=2,
                    connections=args.connections,
                    **extra,
                )
            for _ in range(args.rounds):
                for label, target_port, paths, headers, extra in targets:
                    rate, bad = serving.run_wrk(
                        f"http://127.0.0.1:{target_port}",
                        paths,
                        headers,
                        duration=args.duration,
                        connections=args.connections,
                        **extra,
                    )
                    rates[label].append(rate or 0.0)
                    non_2xx[label] += bad
                    loads.append(os.getloadavg()[0])
            # The group changed meanwhile (metric posts): a fresh ETag for the 304 checks.
            checks = {"GET group": conditional(port, f"{API}/groups/{group}", token)}
            cookie = {"Cookie": fill.session_cookie(port), "HX-Request": "true"}
            checks["header fragment (polled every 3 s)"] = conditional(
                port, f"/bench/bench/groups/{group}/live", cookie
            )
    report(args, rates, non_2xx, checks, loads)


def report(args, rates, non_2xx, checks, loads):
    median = {label: statistics.median(values) for label, values in rates.items()}
    print(
        f"\n{serving.machine_line()}; load average during the runs "
        f"{min(loads):.1f} to {max(loads):.1f}"
    )
    print(
        f"gunicorn -c gunicorn.conf.py ({args.workers} gthread workers x "
        f"{os.environ.get('GUNICORN_THREADS', 4)} threads, production config) + PostgreSQL, "
        f"{args.size}-experiment group; wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"median of {args.rounds} rounds"
    )
    print(f"{'request':<28} {'req/s':>9} {'rounds':>24} {'non-2xx':>8}")
    for label, values in rates.items():
        rounds = " ".join(f"{v:.0f}" for v in values)
        print(f"{label:<28} {median[label]:>9.1f} {rounds:>24} {non_2xx[label]:>8}")
    group, post = median["GET group"], median["POST one metric point"]
    failures = sum(n for label, n in non_2xx.items() if "If-None-Match" not in label)
    lines = [
        ("GET group / /healthz", group / median["/healthz"], 0.35, True),
        ("one-point POST / /healthz", post / median["/healthz"], 0.25, True),
        ("GET group / minimal route", group / median["minimal route"], 0.25, False),
        ("GET group / reference", group / median["reference (token + 1 row)"], 0.8, False),
    ]
    for label, ratio, goal, gate in lines:
        verdict = "met" if ratio >= goal else "NOT met"
        print(f"{label:<28} {ratio:>9.3f}  ({'target' if gate else 'goal'} >= {goal}: {verdict})")
    print(
        f"non-2xx answers (304 row aside): {failures} (target 0: "
        f"{'met' if failures == 0 else 'NOT met'})"
    )
    for label, (first, etag, second) in checks.items():
        verdict = "met" if first == 200 and etag and second == 304 else "NOT met"
        print(
            f"{label}: {first}, ETag {etag}; again with If-None-Match: {second} "
            f"(target 304: {verdict})"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
