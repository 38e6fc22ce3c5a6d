"""The distributed runner: a RUNNER=celery scheduler, Redis, and two Celery workers.

The two workers are two machines in miniature: their own names and working folders, no
database (DATABASE_URL points nowhere), and only the outputs root (shared storage) in common
with the dashboard. Redis is the one REDIS_URL names (scripts/test.sh starts it) or, when
unset, a redis-server started here; without redis-server these tests fail.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import ExperimentStatus
from dashboard.models.types import utcnow
from dashboard.runner.dispatch import task_id
from dashboard.services import runs
from dashboard.tasks import make_celery
from dashboard.tensorboard_process import free_port
from tests import test_runner
from tests.attacks import assert_attack_failed, attack, wait_until_gone
from tests.conftest import ROOT, processes_with, stop_and_show
from tests.factories import make_group
from tests.test_runner import (
    events,
    experiments_of,
    group_status,
    max_overlap,
    pid_alive,
    polyaxonfile,
    started,
    wait_for,
)

# The local runner's project with train.py (`workers`, here the scheduler, is in conftest).
project_with_code = test_runner.project_with_code

NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:9/no-database-for-workers"
FAST = {"WORKER_TIMEOUT_SECONDS": "3", "STOP_GRACE_SECONDS": "3",
        "CELERY_HEARTBEAT_SECONDS": "0.5", "CELERY_VISIBILITY_TIMEOUT": "30"}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """REDIS_URL from the environment, else a throwaway redis-server stopped by PID."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: install Debian's redis-server (scripts/redis.sh)")
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    password = uuid.uuid4().hex  # experiments share loopback: an open Redis would be theirs too
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--requirepass", password,
         "--dir", str(folder), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, password=password)
        deadline = time.monotonic() + 10
        while not _pings(client):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://:{password}@127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pings(client):
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def celery_settings(redis_url):
    """Settings shared by the scheduler and the workers: a queue of this test's own."""
    return {"REDIS_URL": redis_url, "CELERY_QUEUE": f"experiments-{uuid.uuid4().hex[:12]}",
            **FAST}


class CeleryWorker:
    """A Celery worker in its own folder and session, without a database, stopped by PID."""

    def __init__(self, live_server, settings, folder, name, *, wrapper=False, concurrency=2):
        folder.mkdir(parents=True)
        self.name = name
        self.log_path = folder / "worker.log"
        env = {key: value for key, value in live_server.env.items() if key != "DATABASE_URL"}
        env.update(settings, DATABASE_URL=NOWHERE, PYTHONPATH=str(ROOT),
                   OUTPUTS_ROOT=live_server.env["OUTPUTS_ROOT"],
                   DASHBOARD_INSTANCE=str(folder / "instance"))
        if wrapper:
            command = ["-m", "flask", "--app", "wsgi", "worker", "--celery", "--name", name,
                       "--capacity", str(concurrency)]
        else:
            command = ["-m", "celery", "-A", "dashboard.tasks", "worker", "--loglevel=INFO",
                       "-n", name, "-c", str(concurrency)]
        # The log goes to a file: an unread pipe would block a worker that logs a lot.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *command], cwd=folder, env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    def kill(self, sig=signal.SIGQUIT):
        """SIGQUIT (cold shutdown), then SIGKILL for the whole session if it lingers."""
        if self.process.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


@pytest.fixture
def scheduler(workers, celery_settings):
    """Starts the RUNNER=celery scheduler alone, with extra settings."""
    own = ("WORKER_TIMEOUT_SECONDS", "STOP_GRACE_SECONDS")  # set by WorkerProcess (the same)

    def start(**extra):
        return workers(RUNNER="celery", WORKER_CAPACITY=8, **extra,
                       **{key: value for key, value in celery_settings.items()
                          if key not in own})

    return start


@pytest.fixture
def cluster(live_server, celery_settings, scheduler, tmp_path):
    """The scheduler (RUNNER=celery) and two Celery workers; logs printed at the end."""
    machines = []
    scheduler()
    tag = uuid.uuid4().hex[:6]
    for index, machine in enumerate(("alpha", "beta")):
        machines.append(CeleryWorker(live_server, celery_settings, tmp_path / machine,
                                     f"{machine}-{tag}@localhost", wrapper=index == 1))
    yield machines
    stop_and_show(machines)


def running_on(group_id, worker_name=None):
    return [e for e in experiments_of(group_id) if e.status == "running" and e.pid
            and (worker_name is None or e.worker == worker_name)]


def on_worker(group_id, worker_name):
    """The group's experiments the worker has started (running, with or without a pid yet)."""
    return [e for e in experiments_of(group_id)
            if e.status == "running" and e.worker == worker_name]


def test_group_runs_to_succeeded_on_both_workers_within_its_concurrency(
        project_with_code, cluster, tmp_path, live_server):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=8, concurrency=4,
                                                               sleep=1))
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    rows = experiments_of(group.id)
    assert [e.status for e in rows] == ["succeeded"] * 8
    assert {e.worker for e in rows} == {machine.name for machine in cluster}
    for experiment in rows:
        assert experiment.last_metric == {"loss": experiment.params["x"] / 2, "accuracy": 0.1}
    assert 2 <= max_overlap(record) <= 4
    # The log went to the shared outputs root, where the dashboard serves it from.
    first = rows[0]
    log = (live_server.env["OUTPUTS_ROOT"] + f"/alice/demo/groups/{group.id}/experiments/"
           f"{first.id}/logs/output.log")
    assert os.path.exists(log)


def test_stop_kills_every_process_on_both_workers(project_with_code, cluster, tmp_path):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=6, concurrency=4,
                                                               sleep=300))
    wait_for(lambda: len(started(record)) == 4 and len(running_on(group.id)) == 4,
             "four experiments to run")
    assert {e.worker for e in running_on(group.id)} == {machine.name for machine in cluster}
    wait_for(lambda: len(processes_with(str(record))) >= 8, "the experiments' processes")
    from dashboard.services.access import project_access
    from dashboard.services.statuses import stop_group

    stop_group(project_access("alice", "demo", actor=project_with_code.owner), group.id)
    wait_for(lambda: group_status(group.id) == "stopped", "the group to stop")
    assert processes_with(str(record)) == []
    messages = db.session.scalars(select(ExperimentStatus.message).where(
        ExperimentStatus.status.in_(("stopped", "failed")))).all()
    assert [e.status for e in experiments_of(group.id)] == ["stopped"] * 6, messages
    assert len(started(record)) == 4


def test_worker_killed_mid_experiment_fails_it_and_the_group_finishes_elsewhere(
        project_with_code, cluster, tmp_path):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=4, concurrency=2,
                                                               sleep=4))
    first = wait_for(lambda: running_on(group.id), "an experiment to run")[0]
    victim = next(m for m in cluster if m.name == first.worker)
    survivor = next(m for m in cluster if m is not victim)
    # Its experiments' pids are known before the kill (a start report comes before the first
    # heartbeat, which brings the pid), so that every process can be looked for afterwards.
    wait_for(lambda: all(e.pid for e in on_worker(group.id, victim.name)), "the pids")
    victim.kill(signal.SIGKILL)
    # Every experiment the worker had started is lost, whether or not its pid came in.
    lost = [(e.id, e.pid) for e in on_worker(group.id, victim.name)]
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    rows = {e.id: e for e in experiments_of(group.id)}
    assert lost and all(rows[eid].status == "failed" for eid, _ in lost)
    assert not [pid for _, pid in lost if pid and pid_alive(pid)]
    messages = db.session.scalars(
        select(ExperimentStatus.message).where(ExperimentStatus.status == "failed")).all()
    assert messages == [f"Worker lost: {victim.name} stopped sending heartbeats."] * len(lost)
    others = [e for eid, e in rows.items() if eid not in dict(lost)]
    assert others and all(e.status == "succeeded" for e in others)
    assert {e.worker for e in others if e.id > max(dict(lost))} <= {survivor.name}
    assert len(events(record)) >= len(rows)


# A task no worker takes: the pickup deadline.


def unpicked_message(timeout, queue):
    return (f"No worker took the experiment within {timeout} s of it being sent (the task was "
            f"lost or no worker serves queue '{queue}').")


def failure_messages(group_id):
    from dashboard.models import Experiment

    return db.session.scalars(
        select(ExperimentStatus.message).join(Experiment)
        .where(Experiment.group_id == group_id, ExperimentStatus.status == "failed")
        .order_by(ExperimentStatus.experiment_id)).all()


@pytest.fixture
def celery_worker(live_server, celery_settings, tmp_path):
    """Starts one Celery worker when asked; stopped by PID, its log printed at the end."""
    started = []

    def start():
        machine = CeleryWorker(live_server, celery_settings, tmp_path / "alpha",
                               f"alpha-{uuid.uuid4().hex[:6]}@localhost")
        started.append(machine)
        return machine

    yield start
    stop_and_show(started)


def test_a_queue_no_worker_serves_fails_each_experiment_and_the_group_ends(
        project_with_code, scheduler, celery_settings, tmp_path):
    scheduler(CELERY_PICKUP_TIMEOUT_SECONDS=2)
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=2, concurrency=1))
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "failed"
    assert [e.status for e in experiments_of(group.id)] == ["failed"] * 2
    assert [e.worker for e in experiments_of(group.id)] == [
        f"celery-scheduler:{celery_settings['CELERY_QUEUE']}"] * 2
    assert failure_messages(group.id) == [
        unpicked_message(2, celery_settings["CELERY_QUEUE"])] * 2


def test_a_lost_task_fails_its_experiment_and_the_group_goes_on(
        project_with_code, scheduler, celery_worker, celery_settings, tmp_path):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=3, concurrency=1))
    first = experiments_of(group.id)[0]
    machine = celery_worker()
    celery = make_celery({**celery_settings, "CELERY_VISIBILITY_TIMEOUT": 30})
    try:
        wait_for(lambda: celery.control.ping(destination=[machine.name], timeout=0.5),
                 "the worker to be ready")
        # The worker drops the first experiment's task unread, as a flushed Redis would lose it.
        assert celery.control.revoke(task_id(first.uuid), destination=[machine.name],
                                     reply=True, timeout=5)
    finally:
        celery.close()
    scheduler(CELERY_PICKUP_TIMEOUT_SECONDS=3)
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    rows = experiments_of(group.id)
    assert [e.status for e in rows] == ["failed", "succeeded", "succeeded"]
    assert {e.worker for e in rows[1:]} == {machine.name}
    assert failure_messages(group.id) == [unpicked_message(3, celery_settings["CELERY_QUEUE"])]
    assert len(started(record)) == 2


def test_a_worker_that_starts_after_the_send_but_in_time_runs_the_experiments(
        project_with_code, scheduler, celery_worker, tmp_path):
    from dashboard.models import Experiment

    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=2, concurrency=2))
    # Created long ago: the deadline counts from the send, not from the creation.
    db.session.execute(update(Experiment).where(Experiment.group_id == group.id)
                       .values(created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    scheduler(CELERY_PICKUP_TIMEOUT_SECONDS=30)
    wait_for(lambda: [e.status for e in experiments_of(group.id)] == ["starting"] * 2,
             "both experiments to be sent")
    celery_worker()
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    assert [e.status for e in experiments_of(group.id)] == ["succeeded"] * 2
    assert failure_messages(group.id) == []


def test_a_restarted_scheduler_sends_what_it_claimed_before_it_stopped(
        project_with_code, scheduler, celery_worker, celery_settings, tmp_path):
    """A scheduler stopped between claiming an experiment and sending it left it `scheduled`
    under the queue's name: the next one sends it, and the group finishes."""
    from dashboard.models import Experiment

    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=2, concurrency=2))
    first = experiments_of(group.id)[0]
    db.session.execute(update(Experiment).where(Experiment.id == first.id).values(
        status="scheduled", worker=f"celery-scheduler:{celery_settings['CELERY_QUEUE']}"))
    db.session.commit()
    celery_worker()
    scheduler()
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert [e.status for e in experiments_of(group.id)] == ["succeeded"] * 2
    assert len(started(record)) == 2


# The workers' reports, through the API alone (no processes).


@pytest.fixture
def waiting(app):
    """An experiment the scheduler sent to a worker: `starting`, with its own key."""
    from dashboard.models import Experiment
    from dashboard.services import credentials
    from tests.factories import make_project, make_user

    project = make_project(make_user("alice"), "demo")
    group = make_group(project)
    experiment = db.session.scalars(select(Experiment).where(Experiment.group_id == group.id)
                                    .order_by(Experiment.id)).first()
    experiment.status = "starting"
    key = credentials.issue_experiment_token(experiment)
    db.session.commit()
    url = f"/api/v1/alice/demo/experiments/{experiment.id}/_runner"
    return experiment, url, {"Authorization": f"token {key}"}


ME = {"worker": "alpha@host", "host": "host"}


def test_a_worker_starts_a_waiting_experiment_once(client, waiting):
    experiment, url, headers = waiting
    assert client.post(f"{url}/start/", json=ME, headers=headers).status_code == 200
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("running", "alpha@host")
    again = client.post(f"{url}/start/", json={**ME, "worker": "beta@host"}, headers=headers)
    assert again.status_code == 409
    assert again.get_json() == {"detail": "The experiment is running, not waiting for a worker."}
    db.session.refresh(experiment)
    assert experiment.worker == "alpha@host"


def test_heartbeat_records_the_pid_and_answers_a_stop_request(client, waiting):
    from dashboard.models import Worker
    from dashboard.models.types import utcnow

    experiment, url, headers = waiting
    client.post(f"{url}/start/", json=ME, headers=headers)
    beat = client.post(f"{url}/heartbeat/", json={**ME, "pid": 4321}, headers=headers)
    assert (beat.status_code, beat.get_json()) == (200, {"stop": False})
    assert db.session.get(Worker, "alpha@host").pid == 0  # judged by heartbeats alone
    db.session.refresh(experiment)
    assert experiment.pid == 4321
    experiment.stop_requested_at = utcnow()
    db.session.commit()
    beat = client.post(f"{url}/heartbeat/", json=ME, headers=headers)
    assert beat.get_json() == {"stop": True}
    other = client.post(f"{url}/heartbeat/", json={**ME, "worker": "beta@host"}, headers=headers)
    assert other.status_code == 409


def test_a_stopped_experiment_is_not_started(client, waiting):
    from dashboard.models.types import utcnow

    experiment, url, headers = waiting
    experiment.stop_requested_at = utcnow()
    db.session.commit()
    assert client.post(f"{url}/start/", json=ME, headers=headers).status_code == 409
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("starting", None)


SCHEDULER = "celery-scheduler:experiments"


def sent_ago(experiment, seconds, worker=SCHEDULER):
    """The experiment as if last updated (sent, or started) `seconds` ago."""
    from dashboard.models import Experiment

    db.session.execute(update(Experiment).where(Experiment.id == experiment.id).values(
        worker=worker, updated_at=utcnow() - timedelta(seconds=seconds)))
    db.session.commit()
    db.session.refresh(experiment)


def test_the_pickup_check_fails_an_overdue_experiment_and_refuses_its_late_start(
        client, waiting):
    experiment, url, headers = waiting
    sent_ago(experiment, 61)
    assert runs.unpicked_experiments(SCHEDULER, timeout=60, message="Lost.") == [experiment.id]
    db.session.refresh(experiment)
    assert experiment.status == "failed" and experiment.finished_at is not None
    rows = db.session.scalars(select(ExperimentStatus).where(
        ExperimentStatus.experiment_id == experiment.id)).all()
    assert [(row.status, row.message) for row in rows][-1:] == [("failed", "Lost.")]
    assert client.post(f"{url}/start/", json=ME, headers=headers).status_code == 401


def test_the_pickup_check_spares_an_experiment_sent_within_the_timeout(waiting):
    experiment, _, _ = waiting
    sent_ago(experiment, 59)
    assert runs.unpicked_experiments(SCHEDULER, timeout=60, message="Lost.") == []
    db.session.refresh(experiment)
    assert experiment.status == "starting"


def test_the_pickup_check_spares_an_experiment_a_worker_started(client, waiting):
    experiment, url, headers = waiting
    sent_ago(experiment, 61)
    assert client.post(f"{url}/start/", json=ME, headers=headers).status_code == 200
    sent_ago(experiment, 61, worker=ME["worker"])
    assert runs.unpicked_experiments(SCHEDULER, timeout=60, message="Lost.") == []
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("running", ME["worker"])


@pytest.mark.parametrize("body, field", [
    ({"host": "h"}, "worker"),
    ({"worker": "", "host": "h"}, "worker"),
    ({"worker": "w", "host": "h", "pid": 0}, "pid"),
    ({"worker": "w", "host": "h", "pid": "12"}, "pid"),
])
def test_bad_reports_get_field_errors_and_change_nothing(client, waiting, body, field):
    experiment, url, headers = waiting
    response = client.post(f"{url}/start/", json=body, headers=headers)
    assert response.status_code == 400
    assert field in response.get_json()
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("starting", None)


def test_an_attacking_experiment_on_a_celery_worker_reaches_nothing_and_dies_with_it(
        app, live_server, scheduler, celery_settings, redis_url, tmp_path):
    machines = []

    def start_runner():
        scheduler()
        machines.append(CeleryWorker(live_server, celery_settings, tmp_path / "gamma",
                                     f"gamma-{uuid.uuid4().hex[:6]}@localhost"))
        return machines[0].process.pid

    try:
        found, targets, folder = attack(app, live_server, tmp_path, start_runner=start_runner,
                                        redis_url=redis_url)
        assert_attack_failed(found, targets, folder)
        machines[0].kill(signal.SIGKILL)
        wait_until_gone(targets["marker"])
    finally:
        stop_and_show(machines)


def test_a_celery_worker_without_bubblewrap_fails_the_experiment_saying_why(
        project_with_code, scheduler, celery_settings, live_server, tmp_path):
    scheduler()
    bare = {**celery_settings, "PATH": str(Path(sys.executable).parent)}  # no bwrap on it
    machine = CeleryWorker(live_server, bare, tmp_path / "bare",
                           f"bare-{uuid.uuid4().hex[:6]}@localhost")
    try:
        group = make_group(project_with_code, content=polyaxonfile(
            tmp_path / "records" / "record.jsonl", n=1, concurrency=1))
        wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to end")
        message = db.session.scalars(select(ExperimentStatus.message).where(
            ExperimentStatus.status == "failed")).one()
        assert "'bwrap' is not installed" in message and "SANDBOX=off" in message
        assert group_status(group.id) == "failed"
    finally:
        stop_and_show([machine])
