"""Plain helpers for the client-compatibility tests (test_client_compat.py, test_cli_compat.py).

They drive the published polyaxon-client / polyaxon-cli 0.6.1, installed in a separate venv by
scripts/client-venv.sh, against the `live_server` fixture of tests/conftest.py.
"""

import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "driver.py"
POLYAXONFILE = HERE / "random.yml"  # the reference page's group (a copy of examples/random.yml)
DRIVER_TIMEOUT = 240
CLI_TIMEOUT = 90
PASSWORD = "client-compat-pw"


def client_executable(client_venv, name):
    """Path of `name` in the client venv; fail (never skip) when the venv was not built."""
    path = Path(client_venv) / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: build the client venv with scripts/client-venv.sh")
    return path


def unique_username(prefix):
    """A fresh username (letters and digits only, so every client regex accepts it)."""
    return f"{prefix}{secrets.token_hex(4)}"


def make_user(live_server, prefix, password=PASSWORD):
    """Create a user through the app's CLI and return its username."""
    username = unique_username(prefix)
    cli_ok(live_server, "create-user", username, "--password", password)
    return username


def make_token(live_server, username):
    """Create an API token through the app's CLI and return its key."""
    token = cli_ok(live_server, "create-token", username).stdout.strip().splitlines()[-1].strip()
    assert token, "create-token printed no token"
    return token


def cli_ok(live_server, *args):
    """Run `flask --app wsgi ARGS` against the live server's database; it must exit 0."""
    result = live_server.cli(*args)
    assert result.returncode == 0, (
        f"flask {' '.join(args)} exited {result.returncode}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result


def clean_env(home):
    """Environment for the client: own HOME, no inherited POLYAXON_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYAXON_")}
    env["HOME"] = str(home)
    env["POLYAXON_LONG_REQUEST_TIMEOUT"] = "60"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # click refuses to run under an ASCII locale on Python 3.
    env.setdefault("LC_ALL", "C.UTF-8")
    env.setdefault("LANG", "C.UTF-8")
    return env


def run_driver(client_venv, live_server, token, owner, project, home, steps=None, raw=False):
    """Run tests/client/driver.py in the client venv; return its parsed JSON output."""
    python = client_executable(client_venv, "python")
    cmd = [
        str(python),
        str(DRIVER),
        "--host",
        live_server.host,
        "--port",
        str(live_server.port),
        "--token",
        token,
        "--owner",
        owner,
        "--project",
        project,
        "--polyaxonfile",
        str(POLYAXONFILE),
    ]
    if steps is not None:
        cmd += ["--steps", "-"]
    if raw:
        cmd.append("--raw")
    proc = subprocess.run(
        cmd,
        input=json.dumps(steps) if steps is not None else None,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT,
        env=clean_env(home),
        cwd=str(home),
    )
    assert proc.returncode == 0, f"driver exited {proc.returncode}\n{proc.stderr[-5000:]}"
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        pytest.fail(
            f"driver printed no JSON\nstdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
        )


def step_ok(output, name):
    """The result of one driver step, asserting the client call succeeded."""
    step = output["steps"][name]
    assert step["ok"], (
        f"step {name!r} failed: {step['error']} (HTTP {step['error_status']})\n"
        f"calls: {step['calls']}\nbody: {step.get('error_body')}\n{step.get('traceback', '')}"
    )
    return step


class PolyaxonCli:
    """Runs the published `polyaxon` command with its own HOME (config, token) and cwd."""

    def __init__(self, client_venv, home):
        self.executable = client_executable(client_venv, "polyaxon")
        self.home = Path(home)
        self.workdir = self.home / "work"
        self.workdir.mkdir(parents=True, exist_ok=True)

    def __call__(self, *args, input=None):
        """Run `polyaxon ARGS` and return the CompletedProcess (stdout and stderr as text)."""
        return subprocess.run(
            [str(self.executable), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            env=clean_env(self.home),
            cwd=str(self.workdir),
        )

    def ok(self, *args, input=None):
        """Run `polyaxon ARGS`, assert exit 0, return stdout."""
        result = self(*args, input=input)
        assert result.returncode == 0, (
            f"polyaxon {' '.join(args)} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result.stdout

    def login(self, live_server, username, password=PASSWORD):
        """`polyaxon config set` then `polyaxon login -u -p`, as a new user would."""
        out = self.ok(
            "config",
            "set",
            "--host=" + live_server.host,
            f"--port={live_server.port}",
            "--use_https=false",
            "--verify_ssl=false",
        )
        assert "Config was updated." in out
        out = self.ok("login", "-u", username, "-p", password)
        assert "Login successful" in out
        return out
