"""Shared by the throughput benchmarks: the app served as production serves it, wrk, CPU time.

`production_gunicorn` runs gunicorn with the repository's gunicorn.conf.py (gthread workers, the
production config, the request log on) and only the worker count and the port chosen here;
`run_wrk` drives one URL (or a rotation of URLs, or POSTs) with Debian's wrk; `cpu_seconds`
reads the CPU time a server's processes have used from /proc (benchmarks/scheduler.py's).
Servers listen on 127.0.0.1 only and are stopped by PID (fill.server).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import fill
import scheduler

ROOT = fill.ROOT

# A one-line Flask app: the floor of any Flask request on this machine.
MINIMAL_APP = """
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():
    return jsonify(ok=True)
"""

# Our app plus one route that authenticates a token as the API does and reads one row by
# primary key: the floor of an authenticated request of ours.
REFERENCE_APP = """
from flask import g, jsonify

from dashboard import create_app
from dashboard.api import authenticate
from dashboard.extensions import db
from dashboard.models import Project

app = create_app()


@app.get("/api/v1/_reference/<int:project_id>")
def reference(project_id):
    authenticate()
    project = db.session.get(Project, project_id)
    return jsonify(id=project.id, name=project.name, user=g.actor.username)
"""


def production_gunicorn(
    workers, port, database_url, *, app="wsgi:app", chdir=ROOT, log=None, env=None
):
    """gunicorn -c gunicorn.conf.py (production config, gthread) with `workers` workers."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--chdir",
        str(chdir),
        app,
    ]
    settings = {
        "FLASK_CONFIG": "production",
        "SECRET_KEY": fill.SECRET_KEY,
        "DATABASE_URL": database_url,
        "DASHBOARD_INSTANCE": str(fill.TMP),
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    return fill.server(command, port, env=settings, log=log)


def app_module(source):
    """A folder holding `bench_app.py` with the source (served as app="bench_app:app")."""
    folder = Path(tempfile.mkdtemp(prefix="bench-app-", dir=fill.TMP))
    (folder / "bench_app.py").write_text(source)
    return folder


def ensure_wrk():
    """Debian's wrk, installed when missing (root, as everywhere in this project's CI)."""
    if shutil.which("wrk") is None:
        print("installing wrk (Debian package) ...", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL,
        )
    return shutil.which("wrk")


def _lua(paths, method, body):
    """A wrk script sending `method` to the paths in turn (each connection its own turn)."""
    quoted = ", ".join(f'"{p}"' for p in paths)
    body_line = f"wrk.body = [[{body}]]\n" if body is not None else ""
    return (
        f'wrk.method = "{method}"\n{body_line}'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"local paths = {{{quoted}}}\n"
        "local i = math.random(#paths)\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\n"
        "end\n"
    )


def run_wrk(
    base,
    paths,
    headers=None,
    *,
    duration,
    connections,
    method="GET",
    body=None,
    allow_non_2xx=False,
):
    """(requests/second, non-2xx count) of one wrk run over the paths; raises on socket errors
    or, unless allowed, on any non-2xx answer."""
    if isinstance(paths, str):
        paths = [paths]
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=fill.TMP, delete=False) as script:
        script.write(_lua(paths, method, body))
    try:
        out = subprocess.run(
            command + ["-s", script.name, base + paths[0]],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script.name)
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    if "Socket errors" in out or (non_2xx and not allow_non_2xx):
        raise RuntimeError(f"wrk saw failures on {paths[0]}:\n{out}")
    if int(re.search(r"(\d+) requests in", out).group(1)) == 0:
        return None, non_2xx  # nothing answered in the whole window: reported as a stall
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), non_2xx


def server_pids(process):
    """The PIDs of a server we started (its process group: gunicorn's master and workers)."""
    return scheduler.group_pids(process.pid)


def cpu_seconds(pids):
    """User + system CPU seconds the processes have used so far (vanished ones count 0)."""
    return scheduler.cpu_seconds(pids)


def machine_line():
    """Cores and load average, for every printed figure."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} (5 min {five:.1f})"
