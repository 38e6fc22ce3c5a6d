"""Requests per second under gunicorn + PostgreSQL, as ratios to a minimal Flask JSON route.

Fills a 10,000-experiment group in a throwaway PostgreSQL cluster (scripts/postgres.sh), then
for 2 and 4 gunicorn workers (sync, production config) drives each URL with Debian's `wrk`
(installed when missing) and prints requests/second beside those of a one-line Flask app
(`return jsonify(ok=True)`) served the same way in the same run:

- GET group detail (`/api/v1/bench/bench/groups/{id}`, token auth),
- GET experiments list, first page of 20 sorted by a metric
  (`/api/v1/bench/bench/experiments?group={id}&limit=20&sort=-metric.loss`),
- GET group page (HTML, signed-in session cookie).

Every answer must be a 200 (wrk counts the others; any non-2xx or socket error fails the run);
a window in which no request finished at all is printed as such.
Target: GET group >= 0.5 of the minimal route.

Usage: python benchmarks/api_throughput.py [--duration S] [--connections C] [--size N]
       (defaults 10 s per measurement, 16 connections, 10000 experiments;
        DATABASE_URL, an empty database, instead of a throwaway cluster when set)
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fill  # noqa: E402

MINIMAL_APP = '''
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():
    return jsonify(ok=True)
'''


def ensure_wrk():
    """Debian's wrk, installed when missing (root, as everywhere in this project's CI)."""
    if shutil.which("wrk") is None:
        print("installing wrk (Debian package) ...", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                       stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


def run_wrk(url, headers, *, duration, connections):
    """Requests/second of one wrk run; raises if any answer was not 2xx or a socket failed."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failures on {url}:\n{out}")
    if int(re.search(r"(\d+) requests in", out).group(1)) == 0:
        return None  # the server answered nothing in the whole window: reported as a stall
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--size", type=int, default=10000)
    args = parser.parse_args(argv)
    ensure_wrk()
    minimal_dir = Path(tempfile.mkdtemp(prefix="minimal-flask-"))
    (minimal_dir / "minimal.py").write_text(MINIMAL_APP)
    try:
        given = os.environ.get("DATABASE_URL")
        with (nullcontext(given) if given else fill.postgres()) as url:
            app = fill.setup_app(url)
            data = fill.prepare(app, [args.size])
            group = data["groups"][args.size]
            token = {"Authorization": f"token {data['key']}"}
            targets = [
                ("GET group detail", f"/api/v1/bench/bench/groups/{group}", "token"),
                ("GET experiments (20, sorted)",
                 f"/api/v1/bench/bench/experiments?group={group}&limit=20&sort=-metric.loss",
                 "token"),
                ("GET group page (HTML)", f"/bench/bench/groups/{group}/", "cookie"),
            ]
            print(f"\n{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}); "
                  f"wrk -t2 -c{args.connections} -d{args.duration}s; "
                  f"{args.size} experiments on PostgreSQL; gunicorn sync workers")
            print(f"{'request':<30} {'workers':>7} {'req/s':>9} {'minimal req/s':>14} {'ratio':>6}")
            for workers in (2, 4):
                port = fill.free_port()
                with fill.gunicorn(workers, port, url, app="minimal:app", chdir=minimal_dir):
                    base = f"http://127.0.0.1:{port}/ping"
                    run_wrk(base, {}, duration=2, connections=args.connections)  # warm-up
                    minimal = run_wrk(base, {}, duration=args.duration,
                                      connections=args.connections)
                port = fill.free_port()
                with fill.gunicorn(workers, port, url):
                    headers = {"token": token, "cookie": {"Cookie": fill.session_cookie(port)}}
                    for label, path, auth in targets:
                        target = f"http://127.0.0.1:{port}{path}"
                        run_wrk(target, headers[auth], duration=2, connections=args.connections)
                        rate = run_wrk(target, headers[auth], duration=args.duration,
                                       connections=args.connections)
                        if rate is None:
                            print(f"{label:<30} {workers:>7} no request finished in "
                                  f"{args.duration} s", flush=True)
                            continue
                        ratio = rate / minimal
                        note = f"  (target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'})" \
                            if label == "GET group detail" else ""
                        print(f"{label:<30} {workers:>7} {rate:>9.1f} {minimal:>14.1f} "
                              f"{ratio:>6.3f}{note}", flush=True)
    finally:
        shutil.rmtree(minimal_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
