"""Group actions of the JSON API: stop, statuses, bookmarks, archive, TensorBoard."""

import re

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Bookmark, Experiment, ExperimentStatus, GroupStatus
from dashboard.services import statuses
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
)

STATUS_KEYS = {"id", "uuid", "created_at", "message", "status", "experiment_group"}
ROW_KEYS = {
    "id", "uuid", "name", "unique_name", "user", "description", "last_status", "project",
    "created_at", "updated_at", "started_at", "finished_at", "tags", "concurrency",
    "search_algorithm", "bookmarked",
}
TENSORBOARD_KEYS = {
    "id", "uuid", "user", "name", "description", "project", "unique_name", "experiment_group",
    "last_status", "tags", "created_at", "updated_at", "started_at", "finished_at", "url",
}
GROUP_STATUS_CHOICES = "created, running, stopping, succeeded, failed, stopped"


def _setup(**group_fields):
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    group = make_group(project, content=grid_yml(10), **group_fields)
    return owner, project, group, auth(make_token(owner))


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


def _run(group):
    statuses.set_group_status(group, "running")
    db.session.commit()


def _group_statuses(group):
    return db.session.scalars(
        select(GroupStatus.status).where(GroupStatus.group_id == group.id).order_by(GroupStatus.id)
    ).all()


def _experiment_counts(group):
    return dict(db.session.execute(
        select(Experiment.status, func.count())
        .where(Experiment.group_id == group.id)
        .group_by(Experiment.status)
    ).all())


# ---- stop ------------------------------------------------------------------------------


def test_stop_answers_200_with_an_empty_body(client):
    owner, project, group, headers = _setup()

    response = client.post(_url(group, "stop"), headers=headers)

    assert response.status_code == 200
    assert response.data == b""


def test_stop_of_a_created_group_without_running_experiments_goes_straight_to_stopped(client):
    owner, project, group, headers = _setup()

    client.post(_url(group, "stop"), headers=headers)

    assert _group_statuses(group) == ["created", "stopped"]
    assert _experiment_counts(group) == {"stopped": 10}


def _stop_requested(group):
    return sorted(db.session.scalars(
        select(Experiment.status).where(
            Experiment.group_id == group.id, Experiment.stop_requested_at.is_not(None))
    ).all())


def test_stop_of_a_running_group_stops_pending_ones_and_asks_the_runner_to_stop_the_rest(client):
    owner, project, group, headers = _setup()
    _run(group)
    _set_experiment_statuses(group, ["running", "starting", "scheduled", "succeeded", "failed"])

    client.post(_url(group, "stop"), headers=headers)

    # The group waits in `stopping` until the worker has killed the running processes.
    assert _group_statuses(group) == ["created", "running", "stopping"]
    assert _experiment_counts(group) == {
        "stopped": 5, "running": 1, "starting": 1, "scheduled": 1, "succeeded": 1, "failed": 1}
    assert _stop_requested(group) == ["running", "scheduled", "starting"]
    body = client.get(_url(group), headers=headers).json
    assert body["last_status"] == "stopping"
    assert body["finished_at"] is None
    assert (body["num_running_experiments"], body["num_pending_experiments"]) == (3, 0)
    assert body["num_stopped_experiments"] == 5


def test_stop_appends_a_stopped_status_row_to_each_pending_experiment(client):
    owner, project, group, headers = _setup()
    _run(group)
    _set_experiment_statuses(group, ["running", "succeeded"])

    client.post(_url(group, "stop"), headers=headers)

    stopped_rows = db.session.execute(
        select(func.count()).select_from(ExperimentStatus)
        .join(Experiment, Experiment.id == ExperimentStatus.experiment_id)
        .where(Experiment.group_id == group.id, ExperimentStatus.status == "stopped")
    ).scalar_one()
    assert stopped_rows == 8


def test_stop_pending_stops_only_pending_experiments_and_leaves_the_group_stopping(client):
    owner, project, group, headers = _setup()
    _run(group)
    _set_experiment_statuses(group, ["running", "scheduled", "succeeded"])

    response = client.post(_url(group, "stop"), json={"pending": True}, headers=headers)

    assert response.status_code == 200
    assert _group_statuses(group) == ["created", "running", "stopping"]
    assert _experiment_counts(group) == {"running": 1, "scheduled": 1, "succeeded": 1, "stopped": 7}
    body = client.get(_url(group), headers=headers).json
    assert body["last_status"] == "stopping"
    assert body["num_running_experiments"] == 2
    assert body["num_pending_experiments"] == 0
    assert body["finished_at"] is None


def test_stop_pending_with_nothing_running_stops_the_group_at_once(client):
    owner, project, group, headers = _setup()
    _run(group)
    _set_experiment_statuses(group, ["succeeded", "failed"])

    client.post(_url(group, "stop"), json={"pending": True}, headers=headers)

    assert _group_statuses(group) == ["created", "running", "stopping", "stopped"]
    assert _experiment_counts(group) == {"succeeded": 1, "failed": 1, "stopped": 8}


def test_full_stop_after_a_pending_stop_asks_the_runner_to_stop_the_running_ones(client):
    owner, project, group, headers = _setup()
    _run(group)
    _set_experiment_statuses(group, ["running", "starting"])
    client.post(_url(group, "stop"), json={"pending": True}, headers=headers)
    assert _stop_requested(group) == []

    response = client.post(_url(group, "stop"), headers=headers)

    assert response.status_code == 200
    assert _group_statuses(group) == ["created", "running", "stopping"]
    assert _experiment_counts(group) == {"running": 1, "starting": 1, "stopped": 8}
    assert _stop_requested(group) == ["running", "starting"]


def test_stop_of_a_finished_group_is_a_no_op_200(client):
    owner, project, group, headers = _setup()
    _run(group)
    _set_experiment_statuses(group, ["succeeded"] * 10)
    statuses.set_group_status(group, "succeeded")
    db.session.commit()

    response = client.post(_url(group, "stop"), headers=headers)

    assert response.status_code == 200
    assert _group_statuses(group) == ["created", "running", "succeeded"]
    assert _experiment_counts(group) == {"succeeded": 10}


def test_stop_by_a_viewer_is_403_and_stops_nothing(client):
    owner, project, group, _ = _setup()
    viewer = make_user("viewer")

    response = client.post(_url(group, "stop"), headers=auth(make_token(viewer)))

    assert response.status_code == 403
    assert _group_statuses(group) == ["created"]
    assert _experiment_counts(group) == {"created": 10}


def test_stop_by_a_member_is_allowed(client):
    owner, project, group, _ = _setup()
    member = make_user("member")
    add_member(project, member, "member")

    response = client.post(_url(group, "stop"), headers=auth(make_token(member)))

    assert response.status_code == 200
    assert _group_statuses(group) == ["created", "stopped"]


# ---- statuses --------------------------------------------------------------------------


def test_statuses_list_is_paginated_oldest_first_with_exactly_the_contract_keys(client):
    owner, project, group, headers = _setup()
    _run(group)
    statuses.set_group_status(group, "succeeded")
    db.session.commit()

    response = client.get(_url(group, "statuses"), headers=headers)

    assert response.status_code == 200
    body = response.json
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [set(row) for row in body["results"]] == [STATUS_KEYS] * 3
    assert [row["status"] for row in body["results"]] == ["created", "running", "succeeded"]
    assert [row["experiment_group"] for row in body["results"]] == [group.id] * 3
    assert [row["message"] for row in body["results"]] == [None] * 3


def test_post_status_of_a_legal_transition_answers_201_with_the_new_row(client):
    owner, project, group, headers = _setup()

    response = client.post(
        _url(group, "statuses"), json={"status": "running", "message": "by hand"}, headers=headers
    )

    assert response.status_code == 201
    assert set(response.json) == STATUS_KEYS
    assert response.json["status"] == "running"
    assert response.json["message"] == "by hand"
    assert response.json["experiment_group"] == group.id
    assert client.get(_url(group), headers=headers).json["started_at"] is not None


def test_post_the_current_status_again_appends_a_row(client):
    owner, project, group, headers = _setup()

    response = client.post(
        _url(group, "statuses"), json={"status": "created", "message": "again"}, headers=headers
    )

    assert response.status_code == 201
    assert response.json["status"] == "created"
    assert response.json["message"] == "again"
    assert _group_statuses(group) == ["created", "created"]


def test_post_status_stopped_runs_the_stop_operation(client):
    owner, project, group, headers = _setup()
    _run(group)
    _set_experiment_statuses(group, ["succeeded"])

    response = client.post(
        _url(group, "statuses"), json={"status": "stopped", "message": "halt"}, headers=headers
    )

    assert response.status_code == 201
    assert response.json["status"] == "stopped"
    assert response.json["message"] == "halt"
    assert _group_statuses(group) == ["created", "running", "stopping", "stopped"]
    assert _experiment_counts(group) == {"succeeded": 1, "stopped": 9}


def test_post_status_stopped_with_a_running_experiment_leaves_the_group_stopping(client):
    owner, project, group, headers = _setup()
    _run(group)
    _set_experiment_statuses(group, ["running"])

    response = client.post(_url(group, "statuses"), json={"status": "stopped"}, headers=headers)

    assert response.status_code == 201
    assert response.json["status"] == "stopping"
    assert _stop_requested(group) == ["running"]


def test_post_status_of_an_illegal_transition_is_400_naming_both_statuses(client):
    owner, project, group, headers = _setup()

    response = client.post(_url(group, "statuses"), json={"status": "succeeded"}, headers=headers)

    assert response.status_code == 400
    assert response.json == {"status": ["Cannot change group status from created to succeeded."]}
    assert _group_statuses(group) == ["created"]


def test_post_status_stopped_on_a_finished_group_is_400_naming_both_statuses(client):
    owner, project, group, headers = _setup()
    _run(group)
    statuses.set_group_status(group, "failed")
    db.session.commit()

    response = client.post(_url(group, "statuses"), json={"status": "stopped"}, headers=headers)

    assert response.status_code == 400
    assert response.json == {"status": ["Cannot change group status from failed to stopped."]}
    assert _group_statuses(group) == ["created", "running", "failed"]


def test_post_an_unknown_status_is_400(client):
    owner, project, group, headers = _setup()

    response = client.post(_url(group, "statuses"), json={"status": "paused"}, headers=headers)

    assert response.status_code == 400
    assert response.json == {
        "status": [f"'paused' is not a group status (one of: {GROUP_STATUS_CHOICES})."]
    }
    assert _group_statuses(group) == ["created"]


def test_post_status_without_a_status_is_400(client):
    owner, project, group, headers = _setup()

    response = client.post(_url(group, "statuses"), json={"message": "m"}, headers=headers)

    assert response.status_code == 400
    assert response.json == {"status": ["This field is required."]}


def test_post_status_by_a_member_is_403(client):
    owner, project, group, _ = _setup()
    member = make_user("member")
    add_member(project, member, "member")

    response = client.post(
        _url(group, "statuses"), json={"status": "running"}, headers=auth(make_token(member))
    )

    assert response.status_code == 403
    assert _group_statuses(group) == ["created"]


def test_post_status_by_staff_is_allowed(client):
    owner, project, group, _ = _setup()
    staff = make_user("staff", staff=True)

    response = client.post(
        _url(group, "statuses"), json={"status": "running"}, headers=auth(make_token(staff))
    )

    assert response.status_code == 201


# ---- bookmarks -------------------------------------------------------------------------


def _bookmark_count(group):
    return db.session.execute(
        select(func.count()).select_from(Bookmark).where(Bookmark.group_id == group.id)
    ).scalar_one()


def test_bookmark_answers_201_with_an_empty_body_and_marks_the_group(client):
    owner, project, group, headers = _setup()

    response = client.post(_url(group, "bookmark"), headers=headers)

    assert response.status_code == 201
    assert response.data == b""
    assert client.get(_url(group), headers=headers).json["bookmarked"] is True


def test_bookmark_twice_is_idempotent(client):
    owner, project, group, headers = _setup()
    client.post(_url(group, "bookmark"), headers=headers)

    response = client.post(_url(group, "bookmark"), headers=headers)

    assert response.status_code == 201
    assert _bookmark_count(group) == 1


def test_bookmarked_is_per_requesting_user(client):
    owner, project, group, headers = _setup()
    other = make_user("other")
    client.post(_url(group, "bookmark"), headers=headers)

    body = client.get(_url(group), headers=auth(make_token(other))).json

    assert body["bookmarked"] is False


def test_a_viewer_may_bookmark(client):
    owner, project, group, _ = _setup()
    viewer = make_user("viewer")

    response = client.post(_url(group, "bookmark"), headers=auth(make_token(viewer)))

    assert response.status_code == 201


def test_unbookmark_answers_204_then_404(client):
    owner, project, group, headers = _setup()
    client.post(_url(group, "bookmark"), headers=headers)

    first = client.delete(_url(group, "unbookmark"), headers=headers)
    second = client.delete(_url(group, "unbookmark"), headers=headers)

    assert first.status_code == 204
    assert first.data == b""
    assert second.status_code == 404
    assert set(second.json) == {"detail"}
    assert _bookmark_count(group) == 0


def test_unbookmark_leaves_other_users_bookmarks(client):
    owner, project, group, headers = _setup()
    other = make_user("other")
    other_headers = auth(make_token(other))
    client.post(_url(group, "bookmark"), headers=headers)
    client.post(_url(group, "bookmark"), headers=other_headers)

    client.delete(_url(group, "unbookmark"), headers=headers)

    assert client.get(_url(group), headers=other_headers).json["bookmarked"] is True


def test_bookmarks_list_of_self_holds_group_list_rows(client):
    owner, project, group, headers = _setup()
    client.post(_url(group, "bookmark"), headers=headers)

    response = client.get("/api/v1/bookmarks/root/groups", headers=headers)

    assert response.status_code == 200
    body = response.json
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert [set(item) for item in body["results"]] == [{"content_object"}]
    row = body["results"][0]["content_object"]
    assert set(row) == ROW_KEYS
    assert row["id"] == group.id
    assert row["unique_name"] == f"root.quick-start.{group.id}"
    assert row["bookmarked"] is True


def test_bookmarks_list_of_another_user_is_empty(client):
    owner, project, group, headers = _setup()
    client.post(_url(group, "bookmark"), headers=headers)
    other = make_user("other")

    response = client.get("/api/v1/bookmarks/root/groups", headers=auth(make_token(other)))

    assert response.status_code == 200
    assert response.json == {"count": 0, "next": None, "previous": None, "results": []}


def test_bookmarks_list_of_another_user_as_staff_shows_them(client):
    owner, project, group, headers = _setup()
    client.post(_url(group, "bookmark"), headers=headers)
    staff = make_user("staff", staff=True)

    response = client.get("/api/v1/bookmarks/root/groups", headers=auth(make_token(staff)))

    assert response.status_code == 200
    assert response.json["count"] == 1
    row = response.json["results"][0]["content_object"]
    assert row["id"] == group.id
    assert row["bookmarked"] is False


def test_bookmarks_list_leaves_out_unbookmarked_groups(client):
    owner, project, group, headers = _setup()
    client.post(_url(group, "bookmark"), headers=headers)
    client.delete(_url(group, "unbookmark"), headers=headers)

    body = client.get("/api/v1/bookmarks/root/groups", headers=headers).json

    assert body["count"] == 0


# ---- archive / restore -----------------------------------------------------------------


def test_archive_answers_200_with_an_empty_body(client):
    owner, project, group, headers = _setup()

    response = client.post(_url(group, "archive"), headers=headers)

    assert response.status_code == 200
    assert response.data == b""


def test_archived_group_still_answers_get_by_id_and_keeps_its_running_state(client):
    owner, project, group, headers = _setup()
    _run(group)
    client.post(_url(group, "archive"), headers=headers)

    response = client.get(_url(group), headers=headers)

    assert response.status_code == 200
    assert response.json["last_status"] == "running"
    assert _group_statuses(group) == ["created", "running"]


def test_restore_brings_an_archived_group_back_into_the_list(client):
    owner, project, group, headers = _setup()
    client.post(_url(group, "archive"), headers=headers)

    response = client.post(_url(group, "restore"), headers=headers)

    assert response.status_code == 200
    assert response.data == b""
    body = client.get("/api/v1/root/quick-start/groups", headers=headers).json
    assert [row["id"] for row in body["results"]] == [group.id]


def test_archive_by_a_viewer_is_403(client):
    owner, project, group, headers = _setup()
    viewer = make_user("viewer")

    response = client.post(_url(group, "archive"), headers=auth(make_token(viewer)))

    assert response.status_code == 403
    assert client.get("/api/v1/root/quick-start/groups", headers=headers).json["count"] == 1


# ---- TensorBoard -----------------------------------------------------------------------


def test_tensorboard_start_answers_201_with_the_job(client):
    owner, project, group, headers = _setup()

    response = client.post(_url(group, "tensorboard/start"), headers=headers)

    assert response.status_code == 201
    body = response.json
    assert set(body) == TENSORBOARD_KEYS
    assert body["experiment_group"] == group.id
    assert body["unique_name"] == f"root.quick-start.tensorboards.{body['id']}"
    assert body["project"] == "root.quick-start"
    assert body["user"] == "root"
    assert body["last_status"] == "running"
    assert body["url"] == f"/tensorboard/root/quick-start/groups/{group.id}/"
    assert re.fullmatch(r"[0-9a-f]{32}", body["uuid"])


def test_tensorboard_start_again_while_running_answers_200_with_the_same_job(client):
    owner, project, group, headers = _setup()
    first = client.post(_url(group, "tensorboard/start"), headers=headers)

    second = client.post(_url(group, "tensorboard/start"), headers=headers)

    assert second.status_code == 200
    assert second.json["id"] == first.json["id"]


def test_tensorboard_start_accepts_and_stores_the_clients_body(client):
    owner, project, group, headers = _setup()

    response = client.post(
        _url(group, "tensorboard/start"),
        json={"content": {"version": 1, "kind": "tensorboard"}, "is_managed": True},
        headers=headers,
    )

    assert response.status_code == 201


def test_tensorboard_stop_answers_200_and_again_200(client):
    owner, project, group, headers = _setup()
    client.post(_url(group, "tensorboard/start"), headers=headers)

    first = client.post(_url(group, "tensorboard/stop"), headers=headers)
    second = client.post(_url(group, "tensorboard/stop"), headers=headers)

    assert (first.status_code, first.data) == (200, b"")
    assert (second.status_code, second.data) == (200, b"")


def test_tensorboard_stop_without_any_tensorboard_answers_200(client):
    owner, project, group, headers = _setup()

    response = client.post(_url(group, "tensorboard/stop"), headers=headers)

    assert response.status_code == 200


def test_has_tensorboard_goes_from_null_to_true_to_false(client):
    owner, project, group, headers = _setup()
    never = client.get(_url(group), headers=headers).json["has_tensorboard"]
    client.post(_url(group, "tensorboard/start"), headers=headers)
    started = client.get(_url(group), headers=headers).json["has_tensorboard"]
    client.post(_url(group, "tensorboard/stop"), headers=headers)
    stopped = client.get(_url(group), headers=headers).json["has_tensorboard"]

    assert (never, started, stopped) == (None, True, False)


def test_tensorboard_start_after_stop_creates_a_new_job(client):
    owner, project, group, headers = _setup()
    first = client.post(_url(group, "tensorboard/start"), headers=headers)
    client.post(_url(group, "tensorboard/stop"), headers=headers)

    second = client.post(_url(group, "tensorboard/start"), headers=headers)

    assert second.status_code == 201
    assert second.json["id"] != first.json["id"]
    assert client.get(_url(group), headers=headers).json["has_tensorboard"] is True


def test_tensorboard_start_by_a_viewer_is_403(client):
    owner, project, group, headers = _setup()
    viewer = make_user("viewer")

    response = client.post(_url(group, "tensorboard/start"), headers=auth(make_token(viewer)))

    assert response.status_code == 403
    assert client.get(_url(group), headers=headers).json["has_tensorboard"] is None
