"""The README's first command: scripts/run.sh installs, seeds, prints the login and serves the
dashboard with production's server (gunicorn, gunicorn.conf.py)."""

import os
import re
import signal
import subprocess
import time
import urllib.request

from dashboard.processes.tensorboard import free_port
from tests.support.environment import ROOT


def _answer(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers)
    except OSError:
        return None, {}


def test_run_sh_prints_the_login_and_serves_with_gunicorn(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "FLASK_CONFIG", "SECRET_KEY", "FLASK_APP")
    }
    env.update(
        PORT=str(port),
        DASHBOARD_INSTANCE=str(tmp_path / "instance"),
        WEB_CONCURRENCY="2",
        WORKER_CAPACITY="1",
    )
    log = tmp_path / "run.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Installing is a no-op once .venv matches the requirements; allow for one that is not.
        deadline = time.monotonic() + 600
        status, headers = None, {}
        while time.monotonic() < deadline and process.poll() is None and status != 200:
            status, headers = _answer(f"http://127.0.0.1:{port}/healthz")
            time.sleep(0.2)
        text = log.read_text(errors="replace")
        assert status == 200, text[-3000:]
        assert headers.get("Server", "").startswith("gunicorn"), headers
        assert re.search(r"Sign in as root / \S+", text), text[-3000:]
        assert "Using worker: gthread" in text, text[-3000:]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
