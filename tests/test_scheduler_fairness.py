"""The scheduler belongs to everyone: with real `flask worker` processes, one project's hostile
group (a template bomb, a huge group, a slow search) never keeps another project's experiment
from starting."""

import json
import time

from sqlalchemy import func, select, update

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, ExperimentStatus, GroupStatus
from dashboard.services.group.groups import stop_group
from dashboard.services.project.access import project_access
from tests.factories import bo_waiting_for_its_gp, make_group, make_project, make_user

HANG_GUARD = 90  # seconds: the outcome is asserted once it is reached, or fails past this
TIME_BOMB = (
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{{ x }}"
)


def grid(n, cmd, concurrency):
    return (
        "version: 1\nkind: group\nhptuning:\n"
        f"  concurrency: {concurrency}\n  matrix:\n    x: {{range: [0, {n}, 1]}}\n"
        f"run:\n  cmd: {json.dumps(cmd)}\n"
    )


def wait_for(condition, what):
    end = time.monotonic() + HANG_GUARD
    while time.monotonic() < end:
        db.session.expire_all()
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def count(group_id, *statuses):
    return db.session.scalar(
        select(func.count()).where(Experiment.group_id == group_id, Experiment.status.in_(statuses))
    )


def only_experiment(group_id):
    return db.session.scalars(select(Experiment).where(Experiment.group_id == group_id)).one()


def stop(owner, project, group):
    stop_group(project_access(owner.username, project, actor=owner), group.id)


def test_another_projects_experiment_starts_while_a_template_bomb_is_scheduled(app, workers):
    mallory = make_user("mallory")
    hostile = make_group(
        make_project(mallory, "hostile"), content=grid(60, "echo {{ x }}", concurrency=60)
    )
    # A group accepted before templates were bounded, or whose bomb hides behind values the
    # creation check did not sample: each of its experiments renders for ever.
    db.session.execute(
        update(ExperimentGroup)
        .where(ExperimentGroup.id == hostile.id)
        .values(content=grid(60, TIME_BOMB, concurrency=60))
    )
    db.session.commit()
    workers(WORKER_CAPACITY="4")
    wait_for(lambda: count(hostile.id, "failed") >= 1, "the worker to meet the bomb")

    group = make_group(
        make_project(make_user("alice"), "demo"), content=grid(1, "echo {{ x }}", concurrency=1)
    )
    wait_for(
        lambda: only_experiment(group.id).status in ("succeeded", "failed"),
        "alice's experiment to finish",
    )

    assert only_experiment(group.id).status == "succeeded"
    assert count(hostile.id, "created") > 0  # the bomb was still being scheduled meanwhile
    failed = db.session.scalars(
        select(ExperimentStatus.message)
        .join(Experiment)
        .where(Experiment.group_id == hostile.id, ExperimentStatus.status == "failed")
    ).first()
    assert failed == (
        "The experiment could not start: run.cmd: the template took longer than "
        "the time limit of 1 s"
    )
    stop(mallory, "hostile", hostile)


def test_a_huge_group_leaves_another_project_its_turn(app, workers):
    mallory = make_user("mallory")
    hostile = make_group(
        make_project(mallory, "hostile"), content=grid(2000, "sleep 300", concurrency=1000)
    )
    group = make_group(
        make_project(make_user("alice"), "demo"), content=grid(1, "echo {{ x }}", concurrency=1)
    )
    workers(WORKER_CAPACITY="4")

    wait_for(
        lambda: only_experiment(group.id).status in ("succeeded", "failed"),
        "alice's experiment to finish",
    )

    assert only_experiment(group.id).status == "succeeded"
    # It took every other slot and kept them (alice's freed one may be its fourth by now).
    assert count(hostile.id, "scheduled", "starting", "running") >= 3
    stop(mallory, "hostile", hostile)


def test_another_projects_experiment_starts_while_a_bo_group_works_out_its_next_iteration(
    app, workers
):
    mallory = make_user("mallory")
    hostile = bo_waiting_for_its_gp(make_project(mallory, "hostile"))
    workers(WORKER_CAPACITY="4")

    group = make_group(
        make_project(make_user("alice"), "demo"), content=grid(1, "echo {{ x }}", concurrency=1)
    )
    wait_for(
        lambda: only_experiment(group.id).status in ("succeeded", "failed"),
        "alice's experiment to finish",
    )

    assert only_experiment(group.id).status == "succeeded"
    # Meanwhile mallory's suggestion was still being worked out, outside the scheduler's round.
    assert db.session.get(ExperimentGroup, hostile.id).status == "running"
    assert (
        count(hostile.id, "succeeded")
        == db.session.scalar(select(func.count()).where(Experiment.group_id == hostile.id))
        == 200
    )
    stop(mallory, "hostile", hostile)


def test_a_search_past_its_time_limit_fails_its_group_with_the_reason(app, workers):
    mallory = make_user("mallory")
    hostile = bo_waiting_for_its_gp(make_project(mallory, "hostile"))
    workers(SEARCH_TIMEOUT_SECONDS="2")

    wait_for(
        lambda: db.session.get(ExperimentGroup, hostile.id).status != "running", "the search to end"
    )

    assert db.session.get(ExperimentGroup, hostile.id).status == "failed"
    message = db.session.scalars(
        select(GroupStatus.message)
        .where(GroupStatus.group_id == hostile.id)
        .order_by(GroupStatus.id.desc())
    ).first()
    assert message == (
        "The search could not continue: working out the next iteration took "
        "longer than the time limit of 2 s"
    )
    assert count(hostile.id, "created") == 0


def test_projects_take_turns_at_claims_and_released_claims_are_pending_again(app):
    from dashboard.services.run import claims

    first = make_group(
        make_project(make_user("mallory"), "hostile"), content=grid(50, "true", concurrency=50)
    )
    second = make_group(
        make_project(make_user("alice"), "demo"), content=grid(2, "true", concurrency=2)
    )
    for group in (first, second):
        db.session.execute(
            update(ExperimentGroup).where(ExperimentGroup.id == group.id).values(status="running")
        )
    db.session.commit()

    turns = claims.claim_turns("w:1", 6)

    assert [group_id for _, group_id in turns] == [
        first.id,
        second.id,
        first.id,
        second.id,
        first.id,
        first.id,
    ]
    claims.release("w:1", [experiment_id for experiment_id, _ in turns[4:]])
    db.session.expire_all()
    assert count(first.id, "scheduled") == 2 and count(first.id, "created") == 48
    assert count(second.id, "scheduled") == 2
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ExperimentStatus)
            .where(ExperimentStatus.status == "scheduled")
        )
        == 4
    )
