"""Stopping a group through the JSON API (stop, stop pending, stop as a status) and its status
history."""

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentStatus, GroupStatus
from dashboard.services.group import statuses
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_token,
    make_user,
    owner_with_group,
    start_group,
)

STATUS_KEYS = {"id", "uuid", "created_at", "message", "status", "experiment_group"}
GROUP_STATUS_CHOICES = "created, running, paused, stopping, succeeded, failed, stopped"


def _url(group, suffix=""):
    return f"/api/v1/root/quick-start/groups/{group.id}/{suffix}"


def _set_experiment_statuses(group, plan):
    """Give the group's first experiments (by id) the statuses in plan, directly in the table."""
    experiments = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    for experiment, status in zip(experiments, plan, strict=False):
        experiment.status = status
    db.session.commit()


def _group_statuses(group):
    return db.session.scalars(
        select(GroupStatus.status).where(GroupStatus.group_id == group.id).order_by(GroupStatus.id)
    ).all()


def _experiment_counts(group):
    return dict(
        db.session.execute(
            select(Experiment.status, func.count())
            .where(Experiment.group_id == group.id)
            .group_by(Experiment.status)
        ).all()
    )


# ---- stop ------------------------------------------------------------------------------


def test_stop_answers_200_with_an_empty_body(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(_url(root.group, "stop"), headers=root.headers)

    assert response.status_code == 200
    assert response.data == b""


def test_stop_of_a_created_group_without_running_experiments_goes_straight_to_stopped(client):
    root = owner_with_group(grid_yml(10))

    client.post(_url(root.group, "stop"), headers=root.headers)

    assert _group_statuses(root.group) == ["created", "stopped"]
    assert _experiment_counts(root.group) == {"stopped": 10}


def _stop_requested(group):
    return sorted(
        db.session.scalars(
            select(Experiment.status).where(
                Experiment.group_id == group.id, Experiment.stop_requested_at.is_not(None)
            )
        ).all()
    )


def test_stop_of_a_running_group_stops_pending_ones_and_asks_the_runner_to_stop_the_rest(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    _set_experiment_statuses(
        root.group, ["running", "starting", "scheduled", "succeeded", "failed"]
    )

    client.post(_url(root.group, "stop"), headers=root.headers)

    # The group waits in `stopping` until the worker has killed the running processes.
    assert _group_statuses(root.group) == ["created", "running", "stopping"]
    assert _experiment_counts(root.group) == {
        "stopped": 5,
        "running": 1,
        "starting": 1,
        "scheduled": 1,
        "succeeded": 1,
        "failed": 1,
    }
    assert _stop_requested(root.group) == ["running", "scheduled", "starting"]
    body = client.get(_url(root.group), headers=root.headers).json
    assert body["last_status"] == "stopping"
    assert body["finished_at"] is None
    assert (body["num_running_experiments"], body["num_pending_experiments"]) == (3, 0)
    assert body["num_stopped_experiments"] == 5


def test_stop_appends_a_stopped_status_row_to_each_pending_experiment(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    _set_experiment_statuses(root.group, ["running", "succeeded"])

    client.post(_url(root.group, "stop"), headers=root.headers)

    stopped_rows = db.session.execute(
        select(func.count())
        .select_from(ExperimentStatus)
        .join(Experiment, Experiment.id == ExperimentStatus.experiment_id)
        .where(Experiment.group_id == root.group.id, ExperimentStatus.status == "stopped")
    ).scalar_one()
    assert stopped_rows == 8


def test_stop_pending_stops_only_pending_experiments_and_leaves_the_group_stopping(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    _set_experiment_statuses(root.group, ["running", "scheduled", "succeeded"])

    response = client.post(_url(root.group, "stop"), json={"pending": True}, headers=root.headers)

    assert response.status_code == 200
    assert _group_statuses(root.group) == ["created", "running", "stopping"]
    assert _experiment_counts(root.group) == {
        "running": 1,
        "scheduled": 1,
        "succeeded": 1,
        "stopped": 7,
    }
    body = client.get(_url(root.group), headers=root.headers).json
    assert body["last_status"] == "stopping"
    assert body["num_running_experiments"] == 2
    assert body["num_pending_experiments"] == 0
    assert body["finished_at"] is None


def test_stop_pending_with_nothing_running_stops_the_group_at_once(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    _set_experiment_statuses(root.group, ["succeeded", "failed"])

    client.post(_url(root.group, "stop"), json={"pending": True}, headers=root.headers)

    assert _group_statuses(root.group) == ["created", "running", "stopping", "stopped"]
    assert _experiment_counts(root.group) == {"succeeded": 1, "failed": 1, "stopped": 8}


def test_full_stop_after_a_pending_stop_asks_the_runner_to_stop_the_running_ones(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    _set_experiment_statuses(root.group, ["running", "starting"])
    client.post(_url(root.group, "stop"), json={"pending": True}, headers=root.headers)
    assert _stop_requested(root.group) == []

    response = client.post(_url(root.group, "stop"), headers=root.headers)

    assert response.status_code == 200
    assert _group_statuses(root.group) == ["created", "running", "stopping"]
    assert _experiment_counts(root.group) == {"running": 1, "starting": 1, "stopped": 8}
    assert _stop_requested(root.group) == ["running", "starting"]


def test_stop_of_a_finished_group_is_a_no_op_200(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    _set_experiment_statuses(root.group, ["succeeded"] * 10)
    statuses.set_group_status(root.group, "succeeded")
    db.session.commit()

    response = client.post(_url(root.group, "stop"), headers=root.headers)

    assert response.status_code == 200
    assert _group_statuses(root.group) == ["created", "running", "succeeded"]
    assert _experiment_counts(root.group) == {"succeeded": 10}


def test_stop_by_a_viewer_is_403_and_stops_nothing(client):
    root = owner_with_group(grid_yml(10))
    viewer = make_user("viewer")

    response = client.post(_url(root.group, "stop"), headers=auth(make_token(viewer)))

    assert response.status_code == 403
    assert _group_statuses(root.group) == ["created"]
    assert _experiment_counts(root.group) == {"created": 10}


def test_stop_by_a_member_is_allowed(client):
    root = owner_with_group(grid_yml(10))
    member = make_user("member")
    add_member(root.project, member, "member")

    response = client.post(_url(root.group, "stop"), headers=auth(make_token(member)))

    assert response.status_code == 200
    assert _group_statuses(root.group) == ["created", "stopped"]


# ---- statuses --------------------------------------------------------------------------


def test_statuses_list_is_paginated_oldest_first_with_exactly_the_contract_keys(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    statuses.set_group_status(root.group, "succeeded")
    db.session.commit()

    response = client.get(_url(root.group, "statuses"), headers=root.headers)

    assert response.status_code == 200
    body = response.json
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [set(row) for row in body["results"]] == [STATUS_KEYS] * 3
    assert [row["status"] for row in body["results"]] == ["created", "running", "succeeded"]
    assert [row["experiment_group"] for row in body["results"]] == [root.group.id] * 3
    assert [row["message"] for row in body["results"]] == [None] * 3


def test_post_status_of_a_legal_transition_answers_201_with_the_new_row(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(
        _url(root.group, "statuses"),
        json={"status": "running", "message": "by hand"},
        headers=root.headers,
    )

    assert response.status_code == 201
    assert set(response.json) == STATUS_KEYS
    assert response.json["status"] == "running"
    assert response.json["message"] == "by hand"
    assert response.json["experiment_group"] == root.group.id
    assert client.get(_url(root.group), headers=root.headers).json["started_at"] is not None


def test_post_the_current_status_again_appends_a_row(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(
        _url(root.group, "statuses"),
        json={"status": "created", "message": "again"},
        headers=root.headers,
    )

    assert response.status_code == 201
    assert response.json["status"] == "created"
    assert response.json["message"] == "again"
    assert _group_statuses(root.group) == ["created", "created"]


def test_post_status_stopped_runs_the_stop_operation(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    _set_experiment_statuses(root.group, ["succeeded"])

    response = client.post(
        _url(root.group, "statuses"),
        json={"status": "stopped", "message": "halt"},
        headers=root.headers,
    )

    assert response.status_code == 201
    assert response.json["status"] == "stopped"
    assert response.json["message"] == "halt"
    assert _group_statuses(root.group) == ["created", "running", "stopping", "stopped"]
    assert _experiment_counts(root.group) == {"succeeded": 1, "stopped": 9}


def test_post_status_stopped_with_a_running_experiment_leaves_the_group_stopping(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    _set_experiment_statuses(root.group, ["running"])

    response = client.post(
        _url(root.group, "statuses"), json={"status": "stopped"}, headers=root.headers
    )

    assert response.status_code == 201
    assert response.json["status"] == "stopping"
    assert _stop_requested(root.group) == ["running"]


def test_post_status_of_an_illegal_transition_is_400_naming_both_statuses(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(
        _url(root.group, "statuses"), json={"status": "succeeded"}, headers=root.headers
    )

    assert response.status_code == 400
    assert response.json == {"status": ["Cannot change group status from created to succeeded."]}
    assert _group_statuses(root.group) == ["created"]


def test_post_status_stopped_on_a_finished_group_is_400_naming_both_statuses(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    statuses.set_group_status(root.group, "failed")
    db.session.commit()

    response = client.post(
        _url(root.group, "statuses"), json={"status": "stopped"}, headers=root.headers
    )

    assert response.status_code == 400
    assert response.json == {"status": ["Cannot change group status from failed to stopped."]}
    assert _group_statuses(root.group) == ["created", "running", "failed"]


def test_post_an_unknown_status_is_400(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(
        _url(root.group, "statuses"), json={"status": "sleeping"}, headers=root.headers
    )

    assert response.status_code == 400
    assert response.json == {
        "status": [f"'sleeping' is not a group status (one of: {GROUP_STATUS_CHOICES})."]
    }
    assert _group_statuses(root.group) == ["created"]


def test_post_status_without_a_status_is_400(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(
        _url(root.group, "statuses"), json={"message": "m"}, headers=root.headers
    )

    assert response.status_code == 400
    assert response.json == {"status": ["This field is required."]}


def test_post_status_by_a_member_is_403(client):
    root = owner_with_group(grid_yml(10))
    member = make_user("member")
    add_member(root.project, member, "member")

    response = client.post(
        _url(root.group, "statuses"), json={"status": "running"}, headers=auth(make_token(member))
    )

    assert response.status_code == 403
    assert _group_statuses(root.group) == ["created"]


def test_post_status_by_staff_is_allowed(client):
    root = owner_with_group(grid_yml(10))
    staff = make_user("staff", staff=True)

    response = client.post(
        _url(root.group, "statuses"), json={"status": "running"}, headers=auth(make_token(staff))
    )

    assert response.status_code == 201
