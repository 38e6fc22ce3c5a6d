"""Pause, resume, retry and extend through the API (EXTENSIONS.md section 2), with the real
services the runner uses to claim experiments and advance groups."""

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, GroupStatus
from dashboard.services.group import groups as group_service
from dashboard.services.project.access import project_access
from dashboard.services.run import advance, claims, launches
from tests.factories import (
    finish,
    grid_yml,
    move_experiments,
    owner_with_group,
    start_group,
)

HYPERBAND = """version: 1
kind: group
hptuning:
  hyperband:
    max_iter: 9
    eta: 3
    resource: {name: epochs, type: int}
    metric: {name: loss, optimization: minimize}
  matrix:
    lr: {uniform: [0, 1]}
run:
  cmd: echo {{ lr }} {{ epochs }}
"""

RANDOM = """version: 1
kind: group
hptuning:
  seed: 7
  concurrency: 2
  random_search: {n_experiments: 4}
  matrix:
    x: {values: [1, 2, 3, 4, 5, 6, 7, 8]}
    y: {uniform: [0, 1]}
run:
  cmd: echo {{ x }} {{ y }}
"""

TPE = """version: 1
kind: group
hptuning:
  seed: 3
  concurrency: 2
  tpe: {n_experiments: 2, n_initial_trials: 2, metric: {name: loss, optimization: minimize}}
  matrix:
    x: {uniform: [0, 1]}
run:
  cmd: echo {{ x }}
"""


def _url(group, action):
    return f"/api/v1/root/quick-start/groups/{group.id}/{action}/"


def _statuses(group):
    return db.session.execute(
        select(GroupStatus.status, GroupStatus.message)
        .where(GroupStatus.group_id == group.id)
        .order_by(GroupStatus.id)
    ).all()


def _experiments(group):
    return db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def _reload(group):
    db.session.expire_all()
    return db.session.get(ExperimentGroup, group.id)


# ---- pause and resume ------------------------------------------------------------------


def test_pause_then_resume_answer_the_group_and_write_who_did_it(client):
    root = owner_with_group(grid_yml(4))
    start_group(root.group)

    paused = client.post(_url(root.group, "pause"), headers=root.headers)
    assert paused.status_code == 200
    assert paused.json["last_status"] == "paused" and paused.json["id"] == root.group.id
    resumed = client.post(_url(root.group, "resume"), headers=root.headers)
    assert resumed.status_code == 200 and resumed.json["last_status"] == "running"
    assert _statuses(root.group)[-2:] == [
        ("paused", "Paused by root."),
        ("running", "Resumed by root."),
    ]


@pytest.mark.parametrize("status", ["created", "succeeded", "stopped"])
def test_pause_of_a_group_that_is_not_running_is_400_naming_its_status(client, status):
    root = owner_with_group(grid_yml(2))
    if status != "created":
        start_group(root.group)
        root.group.status = status
        db.session.commit()
    before = _statuses(root.group)

    response = client.post(_url(root.group, "pause"), headers=root.headers)

    assert response.status_code == 400
    assert response.json == {
        "status": [f"A {status} group cannot be paused; only a running one can."]
    }
    assert _statuses(root.group) == before


def test_resume_of_a_running_group_is_400(client):
    root = owner_with_group(grid_yml(2))
    start_group(root.group)
    response = client.post(_url(root.group, "resume"), headers=root.headers)
    assert response.status_code == 400
    assert response.json == {
        "status": ["A running group cannot be resumed; only a paused one can."]
    }


def test_a_paused_group_gets_no_claims_until_it_is_resumed(client):
    root = owner_with_group(grid_yml(4))
    start_group(root.group)
    client.post(_url(root.group, "pause"), headers=root.headers)

    assert claims.claim_experiments("w1", 10) == []
    client.post(_url(root.group, "resume"), headers=root.headers)
    assert len(claims.claim_experiments("w1", 10)) == 2  # its concurrency


def test_a_paused_group_whose_experiments_all_finish_stays_paused(client):
    root = owner_with_group(grid_yml(2))
    start_group(root.group)
    move_experiments(root.group, 1, "running")
    client.post(_url(root.group, "pause"), headers=root.headers)
    move_experiments(root.group, 1, "succeeded")
    db.session.execute(
        Experiment.__table__.update()
        .where(Experiment.group_id == root.group.id)
        .values(status="succeeded")
    )
    db.session.commit()

    advance.advance_groups()

    assert _reload(root.group).status == "paused"


def test_a_paused_search_is_asked_for_no_suggestions(client):
    root = owner_with_group(TPE)
    start_group(root.group)
    client.post(_url(root.group, "pause"), headers=root.headers)

    advance.advance_groups()
    assert _experiments(root.group) == []
    client.post(_url(root.group, "resume"), headers=root.headers)
    advance.advance_groups()
    assert len(_experiments(root.group)) == 2


def test_stopping_a_paused_group_with_nothing_running_stops_it_at_once(client):
    root = owner_with_group(grid_yml(3))
    start_group(root.group)
    client.post(_url(root.group, "pause"), headers=root.headers)

    assert client.post(_url(root.group, "stop"), headers=root.headers).status_code == 200

    assert [s for s, _ in _statuses(root.group)][-2:] == ["stopping", "stopped"]


# ---- retry -----------------------------------------------------------------------------


def test_retry_clones_failed_and_stopped_experiments_in_their_places(client):
    root = owner_with_group(grid_yml(5))
    start_group(root.group)
    failed = move_experiments(root.group, 2, "failed")
    stopped = move_experiments(root.group, 1, "stopped")
    move_experiments(root.group, 1, "succeeded")

    response = client.post(_url(root.group, "retry"), headers=root.headers)

    assert response.status_code == 201
    new = response.json["experiments"]
    assert len(new) == 3
    clones = {e.id: e for e in _experiments(root.group)}
    originals = failed + stopped
    for clone_id, original_id in zip(new, originals, strict=True):
        clone, original = clones[clone_id], clones[original_id]
        assert (clone.original_experiment_id, clone.cloning_strategy) == (original_id, "restart")
        assert clone.params == original.params and clone.iteration == original.iteration
        assert clone.status == "created"
    detail = client.get(f"/api/v1/root/quick-start/experiments/{new[0]}/", headers=root.headers)
    assert detail.json["original_experiment"] == failed[0] and detail.json["is_clone"] is True


def test_retry_takes_only_the_latest_of_each_chain_and_then_none_are_left(client):
    root = owner_with_group(grid_yml(2))
    start_group(root.group)
    move_experiments(root.group, 1, "failed")
    first = client.post(_url(root.group, "retry"), headers=root.headers).json["experiments"]
    move_experiments(root.group, 5, "failed")  # the other original and the retry both fail

    second = client.post(_url(root.group, "retry"), headers=root.headers)

    assert second.status_code == 201 and len(second.json["experiments"]) == 2
    originals = {
        e.original_experiment_id
        for e in _experiments(root.group)
        if e.id in second.json["experiments"]
    }
    assert first[0] in originals  # the retry, not the experiment it retried
    move_experiments(root.group, 5, "succeeded")
    none = client.post(_url(root.group, "retry"), headers=root.headers)
    assert none.status_code == 400
    assert none.json == {
        "statuses": ["No experiment of the group is failed or stopped and not retried yet."]
    }


def test_retry_of_a_final_group_runs_it_again_and_keeps_its_earlier_end(client):
    root = owner_with_group(grid_yml(2))
    start_group(root.group)
    move_experiments(root.group, 1, "running")
    group_service.stop_group(project_access("root", "quick-start", actor=root.user), root.group.id)
    db.session.execute(
        Experiment.__table__.update()
        .where(Experiment.group_id == root.group.id, Experiment.status == "running")
        .values(status="stopped")
    )
    db.session.commit()
    advance.advance_groups()
    assert _reload(root.group).status == "stopped"

    response = client.post(
        _url(root.group, "retry"), json={"statuses": ["stopped"]}, headers=root.headers
    )

    assert response.status_code == 201 and len(response.json["experiments"]) == 2
    group = _reload(root.group)
    assert group.status == "running" and group.finished_at is None
    history = _statuses(root.group)
    assert ("stopped", "Stopped by root.") in history
    assert history[-1] == ("running", "Running again: 2 experiments retried by root.")


def test_retry_with_a_status_that_is_not_final_is_400(client):
    root = owner_with_group(grid_yml(2))
    start_group(root.group)
    response = client.post(
        _url(root.group, "retry"), json={"statuses": ["running"]}, headers=root.headers
    )
    assert response.status_code == 400 and "statuses" in str(response.json)
    assert len(_experiments(root.group)) == 2


# ---- extend ----------------------------------------------------------------------------


def test_extend_a_grid_adds_its_next_combinations_in_order(client):
    content = grid_yml(6).replace("  matrix:", "  grid_search: {n_experiments: 3}\n  matrix:")
    root = owner_with_group(content)
    start_group(root.group)
    assert [e.params["x"] for e in _experiments(root.group)] == [0, 1, 2]

    response = client.post(
        _url(root.group, "extend"), json={"n_experiments": 2}, headers=root.headers
    )

    assert response.status_code == 201
    assert [e.params["x"] for e in _experiments(root.group)] == [0, 1, 2, 3, 4]
    assert len(response.json["experiments"]) == 2
    detail = client.get(f"/api/v1/root/quick-start/groups/{root.group.id}/", headers=root.headers)
    assert detail.json["num_experiments"] == 5
    assert _reload(root.group).content == content  # stored on the group, content as submitted
    left = client.post(_url(root.group, "extend"), json={"n_experiments": 2}, headers=root.headers)
    assert left.status_code == 400
    assert left.json == {
        "n_experiments": [
            "The grid has 6 combinations and only 1 are left to run; extend by at most 1."
        ]
    }


def test_extend_random_draws_new_distinct_configurations_from_the_same_stream(client):
    root = owner_with_group(RANDOM)
    start_group(root.group)
    before = [(e.params["x"], e.params["y"]) for e in _experiments(root.group)]

    response = client.post(
        _url(root.group, "extend"), json={"n_experiments": 3}, headers=root.headers
    )

    assert response.status_code == 201
    after = [(e.params["x"], e.params["y"]) for e in _experiments(root.group)]
    assert after[:4] == before and len(set(after)) == 7
    # The same seeded stream: a group created with 7 from the start makes the same 7.
    other = owner_with_group(RANDOM.replace("n_experiments: 4", "n_experiments: 7"), username="bob")
    assert [(e.params["x"], e.params["y"]) for e in other.experiments] == after


def test_extend_hyperband_is_400_saying_why(client):
    root = owner_with_group(HYPERBAND)
    response = client.post(
        _url(root.group, "extend"), json={"n_experiments": 2}, headers=root.headers
    )
    assert response.status_code == 400
    assert response.json["n_experiments"][0].startswith(
        "A hyperband group cannot be extended: hyperband's brackets are fixed by max_iter"
    )


def test_extend_a_finished_suggestion_search_reopens_it_and_the_scheduler_suggests_more(client):
    root = owner_with_group(TPE)
    advance.advance_groups()
    finish(root.group)
    advance.advance_groups()
    assert _reload(root.group).status == "succeeded"

    response = client.post(
        _url(root.group, "extend"), json={"n_experiments": 2}, headers=root.headers
    )

    assert response.status_code == 201 and response.json == {"experiments": []}
    assert _reload(root.group).status == "running"
    assert _statuses(root.group)[-1] == ("running", "Running again: extended by 2 by root.")
    advance.advance_groups()
    assert len(_experiments(root.group)) == 4
    finish(root.group)
    advance.advance_groups()
    assert _reload(root.group).status == "succeeded"


@pytest.mark.parametrize("n", [0, -1, "two", None, 2.5])
def test_extend_with_a_bad_count_is_400_and_changes_nothing(client, n):
    root = owner_with_group(grid_yml(3))
    response = client.post(
        _url(root.group, "extend"), json={"n_experiments": n}, headers=root.headers
    )
    assert response.status_code == 400 and "n_experiments" in response.json
    assert len(_experiments(root.group)) == 3 and _reload(root.group).extended_by == 0


def test_extend_past_the_per_group_cap_is_400(app, client):
    app.config["MAX_EXPERIMENTS_PER_GROUP"] = 10
    root = owner_with_group(RANDOM)
    response = client.post(
        _url(root.group, "extend"), json={"n_experiments": 7}, headers=root.headers
    )
    assert response.status_code == 400
    assert response.json == {
        "n_experiments": [
            "The group has 4 experiments and at most 10 are allowed; 6 more can be added."
        ]
    }


def test_an_experiment_claimed_before_a_pause_is_not_launched_but_pending_again(app, client):
    root = owner_with_group(grid_yml(2))
    start_group(root.group)
    claimed = claims.claim_experiments("w1", 1)
    client.post(_url(root.group, "pause"), headers=root.headers)

    launch = launches.prepare_launch(claimed[0], outputs_root=app.config["OUTPUTS_ROOT"])

    assert launch is None
    experiment = db.session.get(Experiment, claimed[0])
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("created", None)


def test_retry_and_extend_refuse_a_stopping_group(client):
    root = owner_with_group(grid_yml(3))
    start_group(root.group)
    move_experiments(root.group, 1, "running")
    move_experiments(root.group, 1, "failed")
    client.post(_url(root.group, "stop"), headers=root.headers)
    assert _reload(root.group).status == "stopping"

    for action, body in (("retry", {}), ("extend", {"n_experiments": 1})):
        response = client.post(_url(root.group, action), json=body, headers=root.headers)
        assert response.status_code == 400, action
        assert response.json["status"][0].startswith("A stopping group cannot be")
