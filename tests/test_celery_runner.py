"""The distributed runner: a RUNNER=celery scheduler, Redis, and two Celery workers.

The two workers are two machines in miniature: their own names and working folders, no
database (DATABASE_URL points nowhere), and only the outputs root (shared storage) in common
with the dashboard. Redis is the one REDIS_URL names (scripts/test.sh starts it) or, when
unset, a redis-server started here; without redis-server these tests fail.
"""

import os
import signal
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import ExperimentStatus
from dashboard.models.types import utcnow
from dashboard.runner.dispatch import task_id
from dashboard.runner.tasks import make_celery
from tests.attacks import assert_attack_failed, attack, wait_until_gone
from tests.factories import make_group
from tests.support.celery_cluster import CeleryWorker
from tests.support.processes import processes_with, stop_and_show
from tests.support.runs import (
    events,
    experiments_of,
    group_status,
    max_overlap,
    pid_alive,
    polyaxonfile,
    started,
    wait_for,
)


def running_on(group_id, worker_name=None):
    return [
        e
        for e in experiments_of(group_id)
        if e.status == "running" and e.pid and (worker_name is None or e.worker == worker_name)
    ]


def on_worker(group_id, worker_name):
    """The group's experiments the worker has started (running, with or without a pid yet)."""
    return [
        e for e in experiments_of(group_id) if e.status == "running" and e.worker == worker_name
    ]


def test_group_runs_to_succeeded_on_both_workers_within_its_concurrency(
    project_with_code, cluster, tmp_path, live_server
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=8, concurrency=4, sleep=1))
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
    log = (
        live_server.env["OUTPUTS_ROOT"] + f"/alice/demo/groups/{group.id}/experiments/"
        f"{first.id}/logs/output.log"
    )
    assert os.path.exists(log)


def test_stop_kills_every_process_on_both_workers(project_with_code, cluster, tmp_path):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(
        project_with_code, content=polyaxonfile(record, n=6, concurrency=4, sleep=300)
    )
    wait_for(
        lambda: len(started(record)) == 4 and len(running_on(group.id)) == 4,
        "four experiments to run",
    )
    assert {e.worker for e in running_on(group.id)} == {machine.name for machine in cluster}
    wait_for(lambda: len(processes_with(str(record))) >= 8, "the experiments' processes")
    from dashboard.services.group.groups import stop_group
    from dashboard.services.project.access import project_access

    stop_group(project_access("alice", "demo", actor=project_with_code.owner), group.id)
    wait_for(lambda: group_status(group.id) == "stopped", "the group to stop")
    assert processes_with(str(record)) == []
    messages = db.session.scalars(
        select(ExperimentStatus.message).where(ExperimentStatus.status.in_(("stopped", "failed")))
    ).all()
    assert [e.status for e in experiments_of(group.id)] == ["stopped"] * 6, messages
    assert len(started(record)) == 4


def test_worker_killed_mid_experiment_fails_it_and_the_group_finishes_elsewhere(
    project_with_code, cluster, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=4, concurrency=2, sleep=4))
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
        select(ExperimentStatus.message).where(ExperimentStatus.status == "failed")
    ).all()
    assert messages == [f"Worker lost: {victim.name} stopped sending heartbeats."] * len(lost)
    others = [e for eid, e in rows.items() if eid not in dict(lost)]
    assert others and all(e.status == "succeeded" for e in others)
    assert {e.worker for e in others if e.id > max(dict(lost))} <= {survivor.name}
    assert len(events(record)) >= len(rows)


# A task no worker takes: the pickup deadline.


def unpicked_message(timeout, queue):
    return (
        f"No worker took the experiment within {timeout} s of it being sent (the task was "
        f"lost or no worker serves queue '{queue}')."
    )


def failure_messages(group_id):
    from dashboard.models import Experiment

    return db.session.scalars(
        select(ExperimentStatus.message)
        .join(Experiment)
        .where(Experiment.group_id == group_id, ExperimentStatus.status == "failed")
        .order_by(ExperimentStatus.experiment_id)
    ).all()


@pytest.fixture
def celery_worker(live_server, celery_settings, tmp_path):
    """Starts one Celery worker when asked; stopped by PID, its log printed at the end."""
    started = []

    def start():
        machine = CeleryWorker(
            live_server,
            celery_settings,
            tmp_path / "alpha",
            f"alpha-{uuid.uuid4().hex[:6]}@localhost",
        )
        started.append(machine)
        return machine

    yield start
    stop_and_show(started)


def test_a_queue_no_worker_serves_fails_each_experiment_and_the_group_ends(
    project_with_code, scheduler, celery_settings, tmp_path
):
    scheduler(CELERY_PICKUP_TIMEOUT_SECONDS=2)
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=2, concurrency=1))
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "failed"
    assert [e.status for e in experiments_of(group.id)] == ["failed"] * 2
    assert [e.worker for e in experiments_of(group.id)] == [
        f"celery-scheduler:{celery_settings['CELERY_QUEUE']}"
    ] * 2
    assert failure_messages(group.id) == [unpicked_message(2, celery_settings["CELERY_QUEUE"])] * 2


def test_a_lost_task_fails_its_experiment_and_the_group_goes_on(
    project_with_code, scheduler, celery_worker, celery_settings, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=3, concurrency=1))
    first = experiments_of(group.id)[0]
    machine = celery_worker()
    celery = make_celery({**celery_settings, "CELERY_VISIBILITY_TIMEOUT": 30})
    try:
        wait_for(
            lambda: celery.control.ping(destination=[machine.name], timeout=0.5),
            "the worker to be ready",
        )
        # The worker drops the first experiment's task unread, as a flushed Redis would lose it.
        assert celery.control.revoke(
            task_id(first.uuid), destination=[machine.name], reply=True, timeout=5
        )
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
    project_with_code, scheduler, celery_worker, tmp_path
):
    from dashboard.models import Experiment

    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=2, concurrency=2))
    # Created long ago: the deadline counts from the send, not from the creation.
    db.session.execute(
        update(Experiment)
        .where(Experiment.group_id == group.id)
        .values(created_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    scheduler(CELERY_PICKUP_TIMEOUT_SECONDS=30)
    wait_for(
        lambda: [e.status for e in experiments_of(group.id)] == ["starting"] * 2,
        "both experiments to be sent",
    )
    celery_worker()
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    assert [e.status for e in experiments_of(group.id)] == ["succeeded"] * 2
    assert failure_messages(group.id) == []


def test_a_restarted_scheduler_sends_what_it_claimed_before_it_stopped(
    project_with_code, scheduler, celery_worker, celery_settings, tmp_path
):
    """A scheduler stopped between claiming an experiment and sending it left it `scheduled`
    under the queue's name: the next one sends it, and the group finishes."""
    from dashboard.models import Experiment

    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=2, concurrency=2))
    first = experiments_of(group.id)[0]
    db.session.execute(
        update(Experiment)
        .where(Experiment.id == first.id)
        .values(status="scheduled", worker=f"celery-scheduler:{celery_settings['CELERY_QUEUE']}")
    )
    db.session.commit()
    celery_worker()
    scheduler()
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert [e.status for e in experiments_of(group.id)] == ["succeeded"] * 2
    assert len(started(record)) == 2


def test_an_attacking_experiment_on_a_celery_worker_reaches_nothing_and_dies_with_it(
    app, live_server, scheduler, celery_settings, redis_url, tmp_path
):
    machines = []

    def start_runner():
        scheduler()
        machines.append(
            CeleryWorker(
                live_server,
                celery_settings,
                tmp_path / "gamma",
                f"gamma-{uuid.uuid4().hex[:6]}@localhost",
            )
        )
        return machines[0].process.pid

    try:
        found, targets, folder = attack(
            app, live_server, tmp_path, start_runner=start_runner, redis_url=redis_url
        )
        assert_attack_failed(found, targets, folder)
        machines[0].kill(signal.SIGKILL)
        wait_until_gone(targets["marker"])
    finally:
        stop_and_show(machines)


def test_a_celery_worker_without_bubblewrap_fails_the_experiment_saying_why(
    project_with_code, scheduler, celery_settings, live_server, tmp_path
):
    scheduler()
    bare = {**celery_settings, "PATH": str(Path(sys.executable).parent)}  # no bwrap on it
    machine = CeleryWorker(
        live_server, bare, tmp_path / "bare", f"bare-{uuid.uuid4().hex[:6]}@localhost"
    )
    try:
        group = make_group(
            project_with_code,
            content=polyaxonfile(tmp_path / "records" / "record.jsonl", n=1, concurrency=1),
        )
        wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to end")
        message = db.session.scalars(
            select(ExperimentStatus.message).where(ExperimentStatus.status == "failed")
        ).one()
        assert "'bwrap' is not installed" in message and "SANDBOX=off" in message
        assert group_status(group.id) == "failed"
    finally:
        stop_and_show([machine])


def test_asha_tpe_cmaes_and_policy_groups_run_to_the_end_on_celery_workers(
    project_with_code, cluster, tmp_path
):
    searches = {
        "asha": "  asha: {n_experiments: 4, min_resource: 1, max_resource: 4, reduction_factor: 2,"
        " resource: {name: epochs, type: int}, metric: {name: loss, optimization: minimize}}",
        "tpe": "  tpe: {n_experiments: 4, n_initial_trials: 2, metric: {name: loss}}",
        "cmaes": "  cmaes: {n_experiments: 4, metric: {name: loss}}",
    }
    groups = {
        name: make_group(
            project_with_code,
            content=polyaxonfile(
                tmp_path / "records" / f"{name}.jsonl", concurrency=2, algorithm=a
            ),
        )
        for name, a in searches.items()
    }
    # x = 1 .. 5 one at a time, loss x once each: each policy stops x = 4 and x = 5 while they
    # run on a Celery worker.
    for kind in ("median", "average", "truncation"):
        extra = ", percent: 25" if kind == "truncation" else ""
        rule = f"{{metric: loss, optimization: minimize, policy: {{kind: {kind}{extra}, "
        rule += "evaluation_interval: 1}}"
        groups[kind] = make_group(
            project_with_code,
            content=polyaxonfile(
                tmp_path / "records" / f"{kind}.jsonl",
                concurrency=1,
                extra=f"  early_stopping: [{rule}]",
                algorithm="  grid_search: {n_experiments: 5}",
                epochs=1,
                sleep=2,
            ),
        )
    for group in groups.values():
        wait_for(lambda g=group: group_status(g.id) in ("succeeded", "failed"), "a group to end")
        assert group_status(group.id) == "succeeded"
    rows = {name: experiments_of(group.id) for name, group in groups.items()}
    assert any(e.original_experiment_id for e in rows["asha"]), "asha promoted nothing"
    assert len(rows["tpe"]) == len(rows["cmaes"]) == 4
    for kind in ("median", "average", "truncation"):
        assert [e.status for e in rows[kind]] == ["succeeded"] * 3 + ["stopped"] * 2, kind
    workers = {e.worker for experiments in rows.values() for e in experiments}
    assert workers <= {machine.name for machine in cluster}
