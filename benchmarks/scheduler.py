"""The Celery runner's scheduler: time to start a group, and its CPU per 1,000 experiments.

Runs everything for real on 127.0.0.1: a throwaway PostgreSQL cluster (scripts/postgres.sh, or
DATABASE_URL when set: an empty database), a throwaway redis-server, the dashboard under
gunicorn (production config), `flask --app wsgi worker` with RUNNER=celery (the scheduler) and
`--workers` Celery workers of one process each, without a database. Then prints:

1. time from group creation to all experiments `running`: a group of `--workers` experiments
   (concurrency = workers, `sleep 60`), three times (each group stopped afterwards);
2. scheduler CPU (user + system, from /proc) per 1,000 experiments: a grid group of
   `--experiments` no-op experiments (`true`, concurrency = workers) run to `succeeded`,
   with the wall time, the throughput and the dashboard's (gunicorn's) CPU beside it;
3. the delay another project sees: time from creating a one-experiment group in a second
   project to its experiment `running`, alone and then while a hostile group of `--hostile`
   experiments (concurrency = capacity) is being scheduled whose run.cmd takes ~2.5 s of CPU
   to render (nested loops; a group accepted before templates were bounded, written into the
   database directly).

With --search, instead: the delay another project sees while a hostile group's next iteration
is worked out: a bo group waiting for its GP suggestion (its initial trials written into the
database as finished: --observations of them with the default utility, then 200 at the
acquisition limits over a 101-column matrix) and hyperband groups whose first rung has 9,997
and 100,000 configs (the latter past the experiment cap: refused where the cap covers
hyperband). Each runs under a fresh scheduler (one held by a search would hold the next figure
too); the hostile group's outcome is printed beside it. Run it from a copy of the old code too
(with this file and tests/factories.py copied in) for the figures before a change.

Usage: python benchmarks/scheduler.py [--workers 10] [--experiments 1000] [--capacity 20]
       [--poll 0.2] [--hostile 60] [--search [--observations 2000]]
       (run by hand, not in CI; minutes on 2 cores)
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fill  # noqa: E402
from sqlalchemy import delete, func, select, update  # noqa: E402

from dashboard.extensions import db  # noqa: E402
from dashboard.models import Experiment, ExperimentGroup, Worker  # noqa: E402
from dashboard.services.group.groups import create_group, stop_group  # noqa: E402
from dashboard.services.project import projects
from dashboard.services.project.access import project_access  # noqa: E402
from dashboard.services.user import users  # noqa: E402

SLOW_TEMPLATE = (
    "{% for i in range(4000) %}{% for j in range(4000) %}{% endfor %}{% endfor %}{{ p0 }}"
)
NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:9/no-database-for-workers"
TICKS = os.sysconf("SC_CLK_TCK")


def polyaxonfile(sizes, concurrency, cmd):
    matrix = "\n".join(f"    p{i}: {{range: [0, {size}, 1]}}" for i, size in enumerate(sizes))
    return (
        f"version: 1\nkind: group\nhptuning:\n  concurrency: {concurrency}\n"
        f"  matrix:\n{matrix}\nrun:\n  cmd: {cmd}\n"
    )


def cpu_seconds(pids):
    """User + system CPU seconds of these processes (0 for those gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def group_pids(pgid):
    """Every process of a process group (gunicorn's master and workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[2] == str(pgid):
                pids.append(int(entry.name))
    return pids


@contextmanager
def redis_server():
    """A throwaway redis-server on a free loopback port, stopped by PID; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is missing: apt-get install redis-server (see scripts/redis.sh)")
    port = fill.free_port()
    folder = fill.TMP / "redis"
    folder.mkdir()
    command = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(folder),
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    with fill.server(command, port):
        yield f"redis://127.0.0.1:{port}/0"


def start(command, env, log):
    with open(log, "w") as output:
        return subprocess.Popen(
            [sys.executable, *command],
            cwd=fill.ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait(condition, what, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if condition():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def count(group_id, status):
    return db.session.scalar(
        select(func.count()).where(Experiment.group_id == group_id, Experiment.status == status)
    )


def status_of(group_id):
    return db.session.get(ExperimentGroup, group_id).status


def time_to_running(access, workers):
    """Seconds from creating a group of `workers` experiments to all of them running."""
    group = create_group(access, content=polyaxonfile([workers], workers, "sleep 60"))
    started = time.perf_counter()
    wait(lambda: count(group.id, "running") == workers, "every experiment to run", 120)
    elapsed = time.perf_counter() - started
    stop_group(access, group.id)
    wait(lambda: status_of(group.id) == "stopped", "the group to stop", 120)
    return elapsed


def thousand(access, n, workers, scheduler, server):
    """Run n no-op experiments; returns wall seconds, scheduler CPU, dashboard CPU."""
    sizes = [10, 10, max(1, -(-n // 100))]
    content = polyaxonfile(sizes, workers, '"true"')
    scheduler_cpu = cpu_seconds([scheduler.pid])
    server_pids = group_pids(server.pid)
    server_cpu = cpu_seconds(server_pids)
    started = time.perf_counter()
    group = create_group(access, content=content)
    total = db.session.scalar(select(func.count()).where(Experiment.group_id == group.id))
    wait(lambda: status_of(group.id) in ("succeeded", "failed", "stopped"), "the group", 1800)
    wall = time.perf_counter() - started
    assert status_of(group.id) == "succeeded", status_of(group.id)
    assert count(group.id, "succeeded") == total, "not every experiment succeeded"
    return (
        total,
        wall,
        cpu_seconds([scheduler.pid]) - scheduler_cpu,
        cpu_seconds(server_pids) - server_cpu,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument(
        "--capacity",
        type=int,
        default=20,
        help="experiments dispatched and unfinished at once (WORKER_CAPACITY)",
    )
    parser.add_argument("--poll", type=float, default=0.2, help="WORKER_POLL_SECONDS")
    parser.add_argument(
        "--hostile", type=int, default=60, help="experiments of the hostile group (3.)"
    )
    parser.add_argument(
        "--search",
        action="store_true",
        help="only the delays while hostile searches are worked out",
    )
    parser.add_argument(
        "--observations",
        type=int,
        default=2000,
        help="finished initial trials of the first hostile bo group (--search)",
    )
    args = parser.parse_args()
    given = os.environ.get("DATABASE_URL")
    logs = fill.TMP / "logs"
    logs.mkdir()
    with nullcontext(given) if given else fill.postgres() as url, redis_server() as redis:
        app = fill.setup_app(url)
        port = fill.free_port()
        env = {
            "FLASK_CONFIG": "production",
            "SECRET_KEY": fill.SECRET_KEY,
            "DASHBOARD_INSTANCE": str(fill.TMP),
            "OUTPUTS_ROOT": str(fill.TMP / "outputs"),
            "REDIS_URL": redis,
            "CELERY_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
            "DASHBOARD_URL": f"http://127.0.0.1:{port}",
            "REQUEST_LOG": "0",
        }
        os.environ.update({k: v for k, v in env.items() if k != "FLASK_CONFIG"})
        app.config["OUTPUTS_ROOT"] = env["OUTPUTS_ROOT"]
        processes = []
        with fill.gunicorn(4, port, url, log=logs / "gunicorn.log") as server:

            def start_scheduler():
                scheduler = start(
                    ["-m", "flask", "--app", "wsgi", "worker"],
                    {
                        **env,
                        "DATABASE_URL": url,
                        "RUNNER": "celery",
                        "WORKER_CAPACITY": str(args.capacity),
                        "WORKER_POLL_SECONDS": str(args.poll),
                    },
                    logs / "scheduler.log",
                )
                processes.append(scheduler)
                return scheduler

            try:
                scheduler = None if args.search else start_scheduler()
                for index in range(args.workers):
                    processes.append(
                        start(
                            [
                                "-m",
                                "celery",
                                "-A",
                                "dashboard.runner.tasks",
                                "worker",
                                "-c",
                                "1",
                                "-n",
                                f"bench{index}@%h",
                                "--without-mingle",
                                "--without-gossip",
                                "--loglevel=WARNING",
                            ],
                            {**env, "DATABASE_URL": NOWHERE},
                            logs / f"celery{index}.log",
                        )
                    )
                if args.search:
                    search_delays(app, args, start_scheduler)
                else:
                    run(app, args, scheduler, server)
            finally:
                for process in reversed(processes):
                    fill.stop(process, grace=15)


def run(app, args, scheduler, server):
    with app.app_context():
        owner = users.create_user("bench", fill.PASSWORD)
        projects.create_project(actor=owner, name="bench")
        access = project_access("bench", "bench", actor=owner)
        print(
            f"{args.workers} Celery workers (1 process each), scheduler capacity "
            f"{args.capacity}, poll {args.poll} s, dashboard: gunicorn x4, PostgreSQL",
            flush=True,
        )
        time_to_running(access, args.workers)  # warm-up: workers connect, imports settle
        times = [time_to_running(access, args.workers) for _ in range(3)]
        print(
            f"group of {args.workers} created -> all running: "
            + ", ".join(f"{t:.2f}" for t in times)
            + f" s (median {statistics.median(times):.2f} s)",
            flush=True,
        )
        total, wall, cpu, server_cpu = thousand(
            access, args.experiments, args.workers, scheduler, server
        )
        print(
            f"{total} no-op experiments: {wall:.1f} s wall ({total / wall:.1f} per s); "
            f"scheduler CPU {cpu:.2f} s = {cpu * 1000 / total:.2f} s per 1,000 experiments; "
            f"dashboard CPU {server_cpu * 1000 / total:.2f} s per 1,000",
            flush=True,
        )
        alone, hostile = other_project_delay(owner, args)
        print(
            f"another project's experiment created -> running: alone {alone:.2f} s; "
            f"with a hostile group of {args.hostile} slow templates being scheduled "
            + (f"{hostile:.2f} s" if hostile is not None else "never within 300 s"),
            flush=True,
        )


def first_running(group_id, timeout):
    """Seconds until the group's first experiment runs (None past `timeout`)."""
    started = time.perf_counter()
    try:
        wait(
            lambda: count(group_id, "running") + count(group_id, "succeeded") > 0,
            "the experiment to run",
            timeout,
        )
    except RuntimeError:
        return None
    return time.perf_counter() - started


def other_project_delay(owner, args):
    """(alone, with the hostile group) seconds from creating a group to its experiment running."""
    projects.create_project(actor=owner, name="other")
    other = project_access("bench", "other", actor=owner)
    group = create_group(other, content=polyaxonfile([1], 1, "sleep 60"))
    alone = first_running(group.id, 120)
    stop_group(other, group.id)
    mallory = users.create_user("mallory", fill.PASSWORD)
    projects.create_project(actor=mallory, name="hostile")
    hostile_access = project_access("mallory", "hostile", actor=mallory)
    hostile = create_group(
        hostile_access, content=polyaxonfile([args.hostile], args.capacity, '"true"')
    )
    db.session.execute(
        update(ExperimentGroup)
        .where(ExperimentGroup.id == hostile.id)
        .values(content=polyaxonfile([args.hostile], args.capacity, json.dumps(SLOW_TEMPLATE)))
    )
    db.session.commit()
    wait(lambda: count(hostile.id, "created") < args.hostile, "the hostile group to start", 120)
    group = create_group(other, content=polyaxonfile([1], 1, "sleep 60"))
    delayed = first_running(group.id, 300)
    stop_group(other, group.id)
    stop_group(hostile_access, hostile.id)
    return alone, delayed


BO_LIMITS = "n_warmup: 100000, n_iter: 250, gaussian_process: {n_restarts_optimizer: 10}"
SEARCHES = [  # what the figure says, then the hostile group: bo (width, observations, utility)
    ("bo waiting for its GP over {observations:,} observations", ("bo", 2, None, "")),
    ("bo waiting for its GP at the acquisition limits", ("bo", 100, 200, BO_LIMITS)),
    ("hyperband starting a first rung of 9,997 configs", ("hyperband", 9997)),
    ("hyperband starting a first rung of 100,000 configs", ("hyperband", 100_000)),
]


def hyperband_polyaxonfile(size):
    """max_iter = eta = size: a first bracket of `size` configs at resource 1, then 1 at size."""
    return (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 1\n  hyperband: "
        f"{{max_iter: {size}, eta: {size}, resource: {{name: epochs, type: int}}, "
        "metric: {name: loss}}\n  matrix:\n    x: {uniform: [0, 1]}\n"
        "run:\n  cmd: 'true'\n"
    )


def hostile_search(access, project, kind, *details):
    """The hostile group, or the 400 refusing it."""
    from dashboard.errors import ValidationError
    from tests.factories import bo_waiting_for_its_gp

    try:
        if kind == "bo":
            return bo_waiting_for_its_gp(project, *details)
        return create_group(access, content=hyperband_polyaxonfile(*details))
    except ValidationError as exc:
        return f"refused at creation: {exc}"


def search_outcome(group_id, iteration, started, timeout):
    """What became of the hostile group within `timeout` s of `started`: its next iteration
    created, or the group failed (with the reason), or neither."""
    from dashboard.models import GroupStatus

    def moved_on():
        group = db.session.get(ExperimentGroup, group_id)
        return group.current_iteration > iteration or group.status != "running"

    try:
        wait(moved_on, "the hostile search", timeout - (time.perf_counter() - started))
    except RuntimeError:
        return f"still being worked out after {timeout} s"
    elapsed = time.perf_counter() - started
    if db.session.get(ExperimentGroup, group_id).current_iteration > iteration:
        return f"its iteration created after {elapsed:.1f} s"
    message = db.session.scalars(
        select(GroupStatus.message)
        .where(GroupStatus.group_id == group_id)
        .order_by(GroupStatus.id.desc())
    ).first()
    return f"failed after {elapsed:.1f} s: {message}"


def search_delays(app, args, start_scheduler):
    """Print alice's delay, alone and while each hostile search is worked out."""
    from dashboard.models import Project

    with app.app_context():
        owner = users.create_user("alice", fill.PASSWORD)
        projects.create_project(actor=owner, name="demo")
        alice = project_access("alice", "demo", actor=owner)
        mallory = users.create_user("mallory", fill.PASSWORD)
        projects.create_project(actor=mallory, name="hostile")
        hostile_access = project_access("mallory", "hostile", actor=mallory)
        project = db.session.scalar(select(Project).where(Project.name == "hostile"))
        print(
            f"{args.workers} Celery workers, capacity {args.capacity}, poll {args.poll} s, "
            "PostgreSQL; alice's experiment created -> running:",
            flush=True,
        )
        for label, hostile in [("alone", None), *SEARCHES]:
            label = label.format(observations=args.observations)
            if hostile is not None and None in hostile:
                hostile = tuple(args.observations if x is None else x for x in hostile)
            scheduler = start_scheduler()
            wait(
                lambda: db.session.scalar(select(func.count()).select_from(Worker)) > 0,
                "the scheduler to start",
                120,
            )
            group = None
            if hostile is not None:
                group = hostile_search(hostile_access, project, *hostile)
                if isinstance(group, str):
                    print(f"  {label}: {group}", flush=True)
                    fill.stop(scheduler, grace=15)
                    continue
                iteration = group.current_iteration
            hostile_started = time.perf_counter()
            time.sleep(10 * args.poll)  # the scheduler's round meets the hostile group
            mine = create_group(alice, content=polyaxonfile([1], 1, '"true"'))
            delay = first_running(mine.id, 300)
            shown = f"{delay:.2f} s" if delay is not None else "never within 300 s"
            if group is not None:
                outcome = search_outcome(group.id, iteration, hostile_started, 300)
                shown += f"; the hostile group: {outcome}"
            print(f"  {label}: {shown}", flush=True)
            fill.stop(scheduler, grace=15)
            db.session.execute(
                update(Experiment)
                .where(Experiment.status.in_(("created", "scheduled", "starting", "running")))
                .values(status="stopped")
            )
            db.session.execute(
                update(ExperimentGroup)
                .where(ExperimentGroup.status.in_(("created", "running", "stopping")))
                .values(status="stopped")
            )
            db.session.execute(delete(Worker))
            db.session.commit()


if __name__ == "__main__":
    main()
