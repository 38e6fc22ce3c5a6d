"""Experiments run in a bubblewrap sandbox: an attacking experiment reaches nothing of the
server, and nothing it starts outlives its worker (local runner; tests/attacks.py)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bs4 import BeautifulSoup

from dashboard.runner.sandbox import Sandbox, SandboxUnavailable
from tests.attacks import assert_attack_failed, attack, wait_until_gone
from tests.factories import make_group, make_project, make_user
from tests.support.environment import ROOT


def test_an_attacking_experiment_reaches_nothing_and_dies_with_its_killed_worker(
    app, live_server, workers, tmp_path
):
    started = []

    def start_runner():
        started.append(workers())
        return started[0].process.pid

    found, targets, folder = attack(app, live_server, tmp_path, start_runner=start_runner)
    assert_attack_failed(found, targets, folder)
    started[0].kill(signal.SIGKILL)
    wait_until_gone(targets["marker"])


def test_the_sandbox_check_says_why_and_what_to_do_without_bubblewrap(tmp_path):
    sandbox = Sandbox(bwrap="bwrap-not-installed-here")
    try:
        sandbox.check(tmp_path / "scratch")
    except SandboxUnavailable as exc:
        message = str(exc)
    else:
        raise AssertionError("the check passed without bubblewrap")
    assert "'bwrap-not-installed-here' is not installed" in message
    assert "apt-get install bubblewrap" in message and "SANDBOX=off" in message


def test_a_root_worker_gives_the_outputs_folder_to_the_sandbox_uid(tmp_path):
    Sandbox(uid=65534, gid=65534).prepare(tmp_path / "outputs")
    info = os.stat(tmp_path / "outputs")
    expected = (65534, 65534) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    assert (info.st_uid, info.st_gid) == expected


def test_the_group_page_says_when_experiments_run_unisolated(app, client):
    group = make_group(make_project(make_user("alice"), "demo"))
    token = _soup(client.get("/login")).select_one("input[name=csrf_token]")["value"]
    client.post("/login", data={"username": "alice", "password": "pw", "csrf_token": token})
    url = f"/alice/demo/groups/{group.id}/"
    page = client.get(url)
    assert page.status_code == 200 and _soup(page).select("#unisolated") == []
    app.config["SANDBOX"] = "off"
    notice = _soup(client.get(url)).select_one("#unisolated")
    assert "Experiments run unisolated" in notice.text


def _soup(response):
    return BeautifulSoup(response.data, "html.parser")


UNPRIVILEGED = """
import importlib.util, subprocess, sys
spec = importlib.util.spec_from_file_location("sandbox", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
sandbox = module.Sandbox()
assert not sandbox.privileged
argv = sandbox.command("id -u; grep CapEff /proc/self/status; touch x; unshare -U true",
                       outputs=sys.argv[2], code=sys.argv[3])
result = subprocess.run(argv, capture_output=True, text=True, env=sandbox.environment({}))
print(result.stdout + result.stderr)
"""


def test_a_worker_that_is_not_root_sandboxes_in_a_user_namespace_of_its_own():
    """As an ordinary user bwrap needs no privilege: the experiment keeps that uid, with no
    capability, no way into a new user namespace, and its code still read-only."""
    # Folders that user may reach (pytest's own are private to root).
    with tempfile.TemporaryDirectory(prefix="unprivileged-") as scratch:
        folder = Path(scratch)
        for name in ("outputs", "code"):
            (folder / name).mkdir()
        for path in (folder, folder / "outputs", folder / "code"):
            path.chmod(0o777)
        # The checkout itself may sit where that user cannot read (a private clone folder).
        module = folder / "sandbox.py"
        shutil.copyfile(ROOT / "dashboard" / "runner" / "sandbox.py", module)
        module.chmod(0o644)
        # The system's Python: the worker's own may live where an ordinary user cannot read.
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        argv = [
            *(drop if os.geteuid() == 0 else []),
            "/usr/bin/python3",
            "-c",
            UNPRIVILEGED,
            str(module),
            str(folder / "outputs"),
            str(folder / "code"),
        ]
        output = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=folder)
    assert output.returncode == 0, output.stderr
    lines = output.stdout.splitlines()
    assert lines[0] == str(65534 if os.geteuid() == 0 else os.geteuid())
    assert lines[1].split() == ["CapEff:", "0000000000000000"]
    assert "Read-only file system" in output.stdout
    assert "unshare failed" in output.stdout  # --disable-userns


def test_flask_worker_refuses_to_start_where_bubblewrap_is_missing(live_server):
    env = {**live_server.env, "PATH": str(Path(sys.executable).parent)}  # no bwrap on it
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "No experiment will run here" in result.stderr
    assert "'bwrap' is not installed" in result.stderr and "SANDBOX=off" in result.stderr
