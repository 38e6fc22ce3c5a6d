"""Faults: a server killed mid-request, a crashed TensorBoard, a full disk, an unusable folder."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    Experiment,
    ExperimentGroup,
    ExperimentStatus,
    GroupStatus,
    TensorboardJob,
    TensorboardStatus,
)
from dashboard.processes.control import stop_process
from dashboard.processes.tensorboard import free_port, wait_until_serving
from dashboard.storage import paths
from tests.factories import (
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    sign_in_cookie,
)
from tests.support.runs import experiments_of, group_status, wait_for

BIG = 4000  # experiments in the group created while the server is killed


def _restart(server):
    """A new server process over the same database (the old one is dead)."""
    fresh = type(server)(server.env, free_port(), server.log_path)
    fresh.start()
    return fresh


def _group_is_whole_or_absent(n):
    """Every group is complete: n experiments, each with its `created` status, and its status."""
    db.session.expire_all()
    groups = db.session.scalars(select(ExperimentGroup)).all()
    for group in groups:
        experiments = db.session.scalar(
            select(func.count()).select_from(Experiment).where(Experiment.group_id == group.id)
        )
        statuses = db.session.scalar(
            select(func.count())
            .select_from(ExperimentStatus)
            .join(Experiment)
            .where(Experiment.group_id == group.id)
        )
        group_statuses = db.session.scalars(
            select(GroupStatus.status).where(GroupStatus.group_id == group.id)
        ).all()
        assert (experiments, statuses, group_statuses) == (n, n, ["created"]), group.id
    return len(groups)


def _post_group(server, key, content, outcomes):
    try:
        outcomes.append(
            requests.post(
                server.url + "/api/v1/alice/demo/groups/",
                timeout=120,
                json={"content": content},
                headers=auth(key),
            )
        )
    except requests.ConnectionError as exc:
        outcomes.append(exc)


def test_server_killed_mid_group_creation_leaves_the_whole_group_or_nothing(live_server):
    alice = make_user("alice")
    key = make_token(alice)
    make_project(alice, "demo")
    content = grid_yml(BIG)
    # How long one creation takes here: the kills land at fractions of it, inside the request.
    began = time.monotonic()
    outcomes = []
    _post_group(live_server, key, content, outcomes)
    took = time.monotonic() - began
    assert outcomes[0].status_code == 201 and _group_is_whole_or_absent(BIG) == 1
    server, killed_mid_request = live_server, 0
    try:
        for fraction in (0.3, 0.5, 0.7, 0.9):
            before = _group_is_whole_or_absent(BIG)
            outcomes = []
            thread = threading.Thread(target=_post_group, args=(server, key, content, outcomes))
            thread.start()
            time.sleep(took * fraction)
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)
            thread.join(timeout=60)
            after = _group_is_whole_or_absent(BIG)
            if isinstance(outcomes[0], requests.ConnectionError):
                killed_mid_request += 1
                assert after in (before, before + 1)
            else:  # it finished before the kill: then it is all there
                assert outcomes[0].status_code == 201 and after == before + 1
            server = _restart(server)
        assert killed_mid_request >= 2, f"only {killed_mid_request} kills during a request"
        # The restarted server serves what is there.
        listed = requests.get(
            server.url + "/api/v1/alice/demo/groups/", headers=auth(key), timeout=30
        ).json()
        assert listed["count"] == _group_is_whole_or_absent(BIG)
    finally:
        if server is not live_server:
            server.stop()


def _start_tensorboard(server, key, group):
    response = requests.post(
        f"{server.url}/api/v1/alice/demo/groups/{group.id}/tensorboard/start/",
        headers=auth(key),
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _latest_job(group):
    db.session.expire_all()
    return db.session.scalars(
        select(TensorboardJob)
        .where(TensorboardJob.group_id == group.id)
        .order_by(TensorboardJob.id.desc())
    ).first()


def test_a_crashed_tensorboard_is_shown_failed_and_starts_again(
    app,
    live_server,
    project_with_code,
    workers,
):
    alice = project_with_code.owner
    key = make_token(alice)
    group = make_group(project_with_code, content=grid_yml(1))
    _start_tensorboard(live_server, key, group)
    first = _latest_job(group)
    assert first.status == "running"
    os.kill(first.pid, signal.SIGKILL)  # the crash
    workers()
    wait_for(lambda: _latest_job(group).status == "failed", "the crash to be noticed")
    message = db.session.scalars(
        select(TensorboardStatus.message)
        .where(TensorboardStatus.job_id == first.id)
        .order_by(TensorboardStatus.id.desc())
    ).first()
    assert message == "The TensorBoard process exited."
    shown = requests.get(
        f"{live_server.url}/api/v1/alice/demo/groups/{group.id}/", headers=auth(key), timeout=30
    ).json()
    assert shown["has_tensorboard"] is False
    page = app.test_client()
    sign_in_cookie(page, alice)
    html = page.get(f"/alice/demo/groups/{group.id}/").get_data(as_text=True)
    assert "TensorBoard failed since" in html
    # Started again: a new job, and the proxy reaches the new process.
    _start_tensorboard(live_server, key, group)
    second = _latest_job(group)
    try:
        assert second.id != first.id and second.status == "running"
        assert wait_until_serving("127.0.0.1", second.port, timeout=60, pid=second.pid)
        served = requests.get(
            f"http://127.0.0.1:{second.port}/{second.path_secret}"
            f"/tensorboard/alice/demo/groups/{group.id}/",
            timeout=60,
        )
        assert served.status_code == 200
    finally:
        stop_process(second.pid)


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB tmpfs, unmounted afterwards. Tests run as root in CI: no mount is a failure."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"cannot mount a 1 MiB tmpfs (the tests need root): {result.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def _failed_message(experiment_id):
    return db.session.scalars(
        select(ExperimentStatus.message).where(
            ExperimentStatus.experiment_id == experiment_id, ExperimentStatus.status == "failed"
        )
    ).first()


WRITE_3_MIB = """\
version: 1
kind: group
hptuning:
  matrix:
    x: {values: [1]}
run:
  cmd: python3 -c "print('x' * 3000000)"
"""

QUICK = """\
version: 1
kind: group
hptuning:
  matrix:
    x: {values: [1, 2]}
run:
  cmd: echo done {{ x }}
"""


def test_a_full_outputs_disk_fails_the_experiment_not_the_worker(
    project_with_code,
    workers,
    full_disk,
):
    group = make_group(project_with_code, content=WRITE_3_MIB)
    worker = workers(OUTPUTS_ROOT=str(full_disk))
    wait_for(lambda: group_status(group.id) == "failed", "the group to fail")
    experiment = experiments_of(group.id)[0]
    assert experiment.status == "failed"
    assert "No space left on device" in _failed_message(experiment.id)
    assert worker.process.poll() is None
    # The worker goes on: with the disk freed, the next group runs.
    for log in full_disk.rglob("output.log"):
        log.unlink()
    second = make_group(project_with_code, content=QUICK)
    wait_for(lambda: group_status(second.id) == "succeeded", "the next group to succeed")
    assert worker.process.poll() is None


def test_an_outputs_folder_that_cannot_be_created_fails_the_experiment(
    project_with_code,
    workers,
    tmp_path,
):
    outputs_root = tmp_path / "outputs-root"
    group = make_group(project_with_code, content=QUICK)
    first, second = experiments_of(group.id)
    blocked = paths.experiment_outputs_dir(outputs_root, "alice", "demo", group.id, first.id)
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a plain file where the folder should be")
    worker = workers(OUTPUTS_ROOT=str(outputs_root))
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to end")
    assert [e.status for e in experiments_of(group.id)] == ["failed", "succeeded"]
    message = _failed_message(first.id)
    # The reason, without the server path it concerns.
    assert message == "The experiment could not start: File exists"
    assert worker.process.poll() is None
    assert Path(blocked).is_file()
