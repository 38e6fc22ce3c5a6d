"""The worker runs real subprocesses: scheduling, concurrency, metrics, stop, crashes, searches."""

import signal

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ExperimentGroup
from dashboard.storage import paths
from tests.factories import make_group
from tests.support.processes import processes_with
from tests.support.runs import (
    DEADLINE,
    events,
    experiments_of,
    group_status,
    max_overlap,
    polyaxonfile,
    started,
    wait_for,
)


def test_random_group_runs_to_succeeded_within_its_concurrency(
    project_with_code, workers, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=6, concurrency=2))
    workers()
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    rows = experiments_of(group.id)
    assert [e.status for e in rows] == ["succeeded"] * 6
    for experiment in rows:
        assert experiment.last_metric == {"loss": experiment.params["x"] / 2, "accuracy": 0.1}
    assert max_overlap(record) == 2  # never more than concurrency, and it was used
    from dashboard.models import GroupStatus

    final = db.session.scalars(
        select(GroupStatus.message)
        .where(GroupStatus.group_id == group.id)
        .order_by(GroupStatus.id.desc())
    ).first()
    assert final == "Search complete: 6 experiments (6 succeeded, 0 failed)."


def test_failing_experiment_reports_exit_code_and_last_log_lines(
    project_with_code, workers, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=2, fail=True))
    workers()
    wait_for(lambda: group_status(group.id) == "failed", "the group to fail")
    from dashboard.models import ExperimentStatus

    message = db.session.scalars(
        select(ExperimentStatus.message).where(ExperimentStatus.status == "failed")
    ).first()
    assert message.startswith("Exit code 3.")
    assert "something went wrong in epoch 2" in message


def test_stop_kills_every_process_of_the_group(project_with_code, workers, tmp_path, client):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(
        project_with_code, content=polyaxonfile(record, n=4, concurrency=2, sleep=300)
    )
    workers()
    started = wait_for(
        lambda: (
            len([e for e in events(record) if e["event"] == "start"]) == 2
            and [e for e in events(record) if e["event"] == "start"]
        ),
        "two experiments to start",
    )
    assert all(e["child"] for e in started)
    wait_for(lambda: len(processes_with(str(record))) >= 4, "the experiments' processes")
    from dashboard.services.group.groups import stop_group
    from dashboard.services.project.access import project_access

    stop_group(project_access("alice", "demo", actor=project_with_code.owner), group.id)
    wait_for(lambda: group_status(group.id) == "stopped", "the group to stop")
    assert processes_with(str(record)) == []
    assert [e.status for e in experiments_of(group.id)] == ["stopped"] * 4


def test_early_stopping_ends_the_group(project_with_code, workers, tmp_path):
    record = tmp_path / "records" / "record.jsonl"
    rule = "  early_stopping: [{metric: accuracy, value: 0.9, optimization: maximize}]"
    group = make_group(
        project_with_code,
        content=polyaxonfile(record, n=6, concurrency=1, extra=rule, accuracy=0.95, sleep=2),
    )
    workers()
    wait_for(lambda: group_status(group.id) == "stopped", "early stopping")
    from dashboard.models import GroupStatus

    last = db.session.scalars(
        select(GroupStatus).where(GroupStatus.group_id == group.id).order_by(GroupStatus.id.desc())
    ).first()
    first = experiments_of(group.id)[0]
    assert last.message == (
        f"Early stopping: accuracy reached 0.95 (>= 0.9) in experiment {first.id}."
    )
    assert len([e for e in events(record) if e["event"] == "start"]) == 1


def test_worker_killed_mid_run_and_restarted_leaves_nothing_running(
    project_with_code, workers, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(
        project_with_code, content=polyaxonfile(record, n=2, concurrency=2, sleep=300)
    )
    first = workers()
    wait_for(
        lambda: len([e for e in events(record) if e["event"] == "start"]) >= 2,
        "two experiments to start",
    )
    assert processes_with(str(record))
    first.kill(signal.SIGKILL)
    workers()
    wait_for(
        lambda: (
            group_status(group.id) in ("succeeded", "failed", "stopped")
            and not [
                e
                for e in experiments_of(group.id)
                if e.status in ("scheduled", "starting", "running")
            ]
        ),
        "the group to end after the crash",
        deadline=DEADLINE,
    )
    assert [e.status for e in experiments_of(group.id)] == ["failed", "failed"]
    assert group_status(group.id) == "failed"
    assert processes_with(str(record)) == []


def test_two_workers_never_start_the_same_experiment(project_with_code, workers, tmp_path):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(
        project_with_code, content=polyaxonfile(record, n=8, concurrency=3, sleep=0.5)
    )
    workers()
    workers()
    wait_for(lambda: group_status(group.id) == "succeeded", "the group to finish")
    xs = [e["x"] for e in started(record)]
    assert sorted(xs) == sorted(e.params["x"] for e in experiments_of(group.id))
    assert len(xs) == len(set(xs)) == 8
    assert max_overlap(record) <= 3


def test_delete_answers_at_once_and_the_worker_kills_the_processes(
    project_with_code, workers, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(
        project_with_code, content=polyaxonfile(record, n=2, concurrency=2, sleep=300)
    )
    workers()
    running = wait_for(lambda: len(started(record)) == 2 and started(record), "two starts")
    from dashboard.services.group.groups import delete_group
    from dashboard.services.project.access import project_access

    delete_group(project_access("alice", "demo", actor=project_with_code.owner), group.id)
    assert running
    wait_for(lambda: not processes_with(str(record)), "the processes to be killed")


def test_a_deleted_groups_folder_is_removed_in_the_background_after_its_processes(
    project_with_code, workers, tmp_path
):
    kept_record = tmp_path / "records" / "kept.jsonl"
    record = tmp_path / "records" / "record.jsonl"
    kept = make_group(project_with_code, content=polyaxonfile(kept_record, n=1))
    doomed = make_group(project_with_code, content=polyaxonfile(record, n=2, sleep=300))
    workers(OUTPUTS_SWEEP_SECONDS="0.2", CELERY_HEARTBEAT_SECONDS="1")
    wait_for(lambda: len(started(record)) == 2, "two starts")
    wait_for(lambda: group_status(kept.id) == "succeeded", "the kept group to succeed")
    folder = paths.group_dir(tmp_path / "outputs", "alice", "demo", doomed.id)
    assert folder.is_dir()
    from dashboard.services.group.groups import delete_group
    from dashboard.services.project.access import project_access

    delete_group(project_access("alice", "demo", actor=project_with_code.owner), doomed.id)

    assert folder.is_dir()  # not in the request
    wait_for(
        lambda: not processes_with(str(record)) or not folder.is_dir(), "the processes to be killed"
    )
    assert folder.is_dir(), "the folder went while the group's processes still ran"
    wait_for(lambda: not folder.exists(), "the deleted group's folder to go")
    kept_log = paths.experiment_log_path(
        tmp_path / "outputs", "alice", "demo", kept.id, experiments_of(kept.id)[0].id
    )
    assert kept_log.is_file()


def test_an_experiment_that_exits_takes_its_orphaned_children_with_it(
    project_with_code, workers, tmp_path
):
    """A crash leaves the experiment's children running: the worker ends its whole group."""
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(project_with_code, content=polyaxonfile(record, n=1, sleep=300, crash=True))
    workers()
    wait_for(lambda: group_status(group.id) == "failed", "the group to fail")
    (start,) = started(record)
    assert start["child"]
    assert experiments_of(group.id)[0].status == "failed"
    wait_for(lambda: not processes_with(str(record)), "the orphaned child to be killed")


def test_hyperband_group_runs_its_brackets_with_the_resource_injected(
    project_with_code, workers, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    hyperband = (
        "  hyperband: {max_iter: 9, eta: 3, resource: {name: epochs, type: int},"
        " metric: {name: loss, optimization: minimize}}\n  seed: 1"
    )
    group = make_group(
        project_with_code,
        content=polyaxonfile(record, concurrency=4, algorithm=hyperband, sleep=0.05),
    )
    workers()
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "hyperband to finish")
    assert group_status(group.id) == "succeeded"
    rows = experiments_of(group.id)
    by_iteration = {}
    for experiment in rows:
        by_iteration.setdefault(experiment.iteration, []).append(experiment.params["epochs"])
    # R=9, eta=3: brackets of 9 configs (rungs 9, 3, 1 at 1, 3, 9 epochs), 5 (5, 1 at 3, 9), 3 at 9.
    assert [(len(v), set(v)) for _, v in sorted(by_iteration.items())] == [
        (9, {1}),
        (3, {3}),
        (1, {9}),
        (5, {3}),
        (1, {9}),
        (3, {9}),
    ]
    assert db.session.get(ExperimentGroup, group.id).current_iteration == 6
    assert all(e.last_metric for e in rows)


def test_bo_group_runs_initial_trials_then_one_suggestion_per_iteration(
    project_with_code, workers, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    bo = (
        "  bo: {n_initial_trials: 3, n_iterations: 3,"
        " metric: {name: loss, optimization: minimize},"
        " utility_function: {acquisition_function: ei, eps: 0.01, n_warmup: 500, n_iter: 2}}"
        "\n  seed: 3"
    )
    group = make_group(
        project_with_code, content=polyaxonfile(record, concurrency=3, algorithm=bo, sleep=0.05)
    )
    workers()
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "bo to finish")
    assert group_status(group.id) == "succeeded"
    rows = experiments_of(group.id)
    assert [e.iteration for e in rows] == [0, 0, 0, 1, 2, 3]
    assert len({e.params["x"] for e in rows}) == 6
    assert db.session.get(ExperimentGroup, group.id).current_iteration == 4
