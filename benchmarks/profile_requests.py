"""Where a request's time goes under gunicorn: py-spy samples the workers while wrk drives a URL.

Fills a group (100 experiments) in a throwaway PostgreSQL cluster, serves the app as
api_throughput.py does (gunicorn.conf.py, gthread, production config, 2 workers), warms it up,
then for each request kind runs wrk (8 connections) while `py-spy record` (pinned in
requirements-dev.txt; it needs ptrace: root or CAP_SYS_PTRACE) samples every worker at 200 Hz
without pausing them. Prints, per kind, the frames holding the largest share of the samples:
inclusive (the frame is anywhere on the stack) and self (the frame is the one running); with
--gil only the thread holding the GIL is sampled (Python's own CPU time, without the waits on
the database). Keeps the collapsed stacks (flamegraph.pl / speedscope input) in --keep DIR.

Kinds: group (GET group, token), metric (POST one point, token), healthz, fragment (the group
page's header fragment, signed-in cookie).

Usage: python benchmarks/profile_requests.py [KIND ...] [--seconds S] [--top N] [--keep DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fill  # noqa: E402
import serving  # noqa: E402

API = "/api/v1/bench/bench"
KINDS = ("group", "metric", "healthz", "fragment")


def py_spy():
    return str(Path(sys.executable).parent / "py-spy")


def record(pids, seconds, folder, kind, gil=False):
    """Run py-spy on each pid for `seconds`; returns the collapsed-stack files."""
    outputs, processes = [], []
    for pid in pids:
        out = folder / f"{kind}-{pid}.txt"
        outputs.append(out)
        processes.append(
            subprocess.Popen(
                [
                    py_spy(),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    "200",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                ]
                + (["--gil"] if gil else []),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    for process in processes:
        process.wait()
    return [out for out in outputs if out.exists()]


def _drive(result, base, paths, headers, seconds, extra):
    result["rate"] = serving.run_wrk(
        base, paths, headers, duration=seconds, connections=8, **extra
    )[0]


def frame_name(frame):
    # py-spy's raw frames read "function (path/to/file.py:line)": keep the function and file.
    function, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{function} ({path})"


def shares(files):
    """(total samples, inclusive Counter, self Counter) over collapsed-stack files."""
    inclusive, own, total = Counter(), Counter(), 0
    for file in files:
        for line in file.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            count = int(count)
            frames = [frame_name(f) for f in stack.split(";")]
            total += count
            for name in set(frames):
                inclusive[name] += count
            own[frames[-1]] += count
    return total, inclusive, own


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("kinds", nargs="*", default=list(KINDS))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument(
        "--gil",
        action="store_true",
        help="sample only the thread holding the GIL: Python's CPU time alone",
    )
    args = parser.parse_args(argv)
    serving.ensure_wrk()
    folder = args.keep or fill.TMP
    folder.mkdir(parents=True, exist_ok=True)
    given = os.environ.get("DATABASE_URL")
    with nullcontext(given) if given else fill.postgres() as url:
        app = fill.setup_app(url)
        data = fill.prepare(app, [100])
        group, experiments = data["groups"][100], data["experiments"][100]
        token = {"Authorization": f"token {data['key']}"}
        port = fill.free_port()
        with serving.production_gunicorn(2, port, url, log=fill.TMP / "profile.log") as server:
            base = f"http://127.0.0.1:{port}"
            cookie = {"Cookie": fill.session_cookie(port), "HX-Request": "true"}
            targets = {
                "group": ([f"{API}/groups/{group}"], token, {}),
                "metric": (
                    [f"{API}/experiments/{e}/metrics" for e in experiments],
                    token,
                    {"method": "POST", "body": json.dumps({"values": {"loss": 0.25}})},
                ),
                "healthz": (["/healthz"], {}, {}),
                "fragment": ([f"/bench/bench/groups/{group}/live"], cookie, {}),
            }
            pids = serving.server_pids(server)[1:]
            for kind in args.kinds:
                paths, headers, extra = targets[kind]
                serving.run_wrk(base, paths, headers, duration=2, connections=8, **extra)
                result = {}
                driver = threading.Thread(
                    target=_drive, args=(result, base, paths, headers, args.seconds + 2, extra)
                )
                driver.start()
                files = record(pids, args.seconds, folder, kind, args.gil)
                driver.join()
                report(kind, result.get("rate"), *shares(files), args.top)


def report(kind, rate, total, inclusive, own, top):
    print(
        f"\n== {kind}: {rate or 0:.1f} req/s under py-spy; {total} samples of busy threads; "
        f"{serving.machine_line()}"
    )
    print("inclusive (on the stack)")
    for name, count in inclusive.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("self (running)")
    for name, count in own.most_common(top // 2):
        print(f"  {100 * count / total:5.1f}%  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
