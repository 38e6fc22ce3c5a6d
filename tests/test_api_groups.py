"""The group resource of the JSON API: get, update, delete, list, create (CONTRACT.md 2-3)."""

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    Bookmark,
    Experiment,
    ExperimentGroup,
    ExperimentStatus,
    ExperimentValue,
    GroupStatus,
    TensorboardJob,
)
from dashboard.services import statuses
from tests.factories import (
    RANDOM_YML,
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
)

DETAIL_KEYS = {
    "id", "uuid", "name", "unique_name", "user", "description", "last_status", "project",
    "created_at", "updated_at", "started_at", "finished_at", "tags", "concurrency",
    "search_algorithm", "current_iteration", "content", "hptuning", "has_tensorboard",
    "num_experiments", "num_pending_experiments", "num_running_experiments",
    "num_scheduled_experiments", "num_succeeded_experiments", "num_failed_experiments",
    "num_stopped_experiments", "bookmarked",
}
ROW_KEYS = DETAIL_KEYS - {
    "content", "hptuning", "current_iteration", "has_tensorboard", "num_experiments",
    "num_pending_experiments", "num_running_experiments", "num_scheduled_experiments",
    "num_succeeded_experiments", "num_failed_experiments", "num_stopped_experiments",
}
REFERENCE_HPTUNING = {
    "concurrency": 5,
    "seed": None,
    "matrix": {
        "learning_rate": {"linspace": {"start": 0.001, "stop": 0.1, "num": 5}},
        "dropout": {"values": [0.25, 0.3]},
        "activation": {"values": ["relu", "sigmoid"]},
    },
    "early_stopping": None,
    "random_search": {"n_experiments": 10},
}


def _owner_setup(username="root", project_name="quick-start"):
    owner = make_user(username)
    project = make_project(owner, project_name)
    return owner, project, auth(make_token(owner))


def _url(group, suffix=""):
    return f"/api/v1/root/quick-start/groups/{group.id}/{suffix}"


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _finish(group, status="succeeded"):
    statuses.set_group_status(group, "running")
    statuses.set_group_status(group, status)
    db.session.commit()


# ---- GET -------------------------------------------------------------------------------


def test_get_group_answers_the_detail_with_exactly_the_contract_keys(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)

    response = client.get(_url(group), headers=headers)

    assert response.status_code == 200
    assert set(response.json) == DETAIL_KEYS


def test_get_group_shows_the_reference_page_values(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)

    body = client.get(_url(group), headers=headers).json

    assert body["id"] == group.id
    assert body["unique_name"] == f"root.quick-start.{group.id}"
    assert body["project"] == "root.quick-start"
    assert body["user"] == "root"
    assert body["name"] is None
    assert body["description"] is None
    assert body["tags"] is None
    assert body["last_status"] == "created"
    assert body["search_algorithm"] == "random"
    assert body["concurrency"] == 5
    assert body["current_iteration"] == 0
    assert body["content"] == RANDOM_YML
    assert body["hptuning"] == REFERENCE_HPTUNING
    assert list(body["hptuning"]["matrix"]) == ["learning_rate", "dropout", "activation"]
    assert body["has_tensorboard"] is None
    assert body["bookmarked"] is False
    assert body["started_at"] is None
    assert body["finished_at"] is None


def test_get_group_counts_experiments_by_status(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    plan = ["scheduled", "starting", "running", "succeeded", "succeeded", "failed", "stopped"]
    for experiment_id, status in zip(ids, plan, strict=False):
        db.session.get(Experiment, experiment_id).status = status
    db.session.commit()

    body = client.get(_url(group), headers=headers).json

    assert body["num_experiments"] == 10
    assert body["num_pending_experiments"] == 3
    assert body["num_scheduled_experiments"] == 1
    assert body["num_running_experiments"] == 3
    assert body["num_succeeded_experiments"] == 2
    assert body["num_failed_experiments"] == 1
    assert body["num_stopped_experiments"] == 1


def test_get_group_of_another_project_is_404(client):
    owner, project, headers = _owner_setup()
    other = make_project(owner, "other")
    group = make_group(other)

    response = client.get(_url(group), headers=headers)

    assert response.status_code == 404
    assert response.json == {"detail": "Not found."}


def test_get_group_on_a_public_project_is_readable_by_any_signed_in_user(client):
    owner, project, _ = _owner_setup()
    group = make_group(project)
    reader = make_user("reader")

    response = client.get(_url(group), headers=auth(make_token(reader)))

    assert response.status_code == 200
    assert response.json["bookmarked"] is False


# ---- PATCH / PUT -----------------------------------------------------------------------


def test_patch_group_description_answers_the_updated_detail(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)

    response = client.patch(_url(group), json={"description": "new description"}, headers=headers)

    assert response.status_code == 200
    assert set(response.json) == DETAIL_KEYS
    assert response.json["description"] == "new description"
    assert db.session.get(ExperimentGroup, group.id).description == "new description"


def test_put_group_updates_like_patch(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)

    response = client.put(_url(group), json={"name": "renamed"}, headers=headers)

    assert response.status_code == 200
    assert response.json["name"] == "renamed"


def test_patch_group_tags_replaces_them(client):
    owner, project, headers = _owner_setup()
    group = make_group(project, tags=["a", "b"])

    response = client.patch(_url(group), json={"tags": ["c"]}, headers=headers)

    assert response.status_code == 200
    assert response.json["tags"] == ["c"]


def test_patch_group_tags_with_merge_adds_new_tags_to_existing_ones(client):
    owner, project, headers = _owner_setup()
    group = make_group(project, tags=["a", "b"])

    response = client.patch(
        _url(group), json={"tags": ["b", "c"], "merge": True}, headers=headers
    )

    assert response.status_code == 200
    assert response.json["tags"] == ["a", "b", "c"]


def test_patch_group_name_used_by_another_group_of_the_project_is_400(client):
    owner, project, headers = _owner_setup()
    make_group(project, name="taken")
    group = make_group(project)

    response = client.patch(_url(group), json={"name": "taken"}, headers=headers)

    assert response.status_code == 400
    assert response.json == {"name": ["A group named 'taken' already exists in this project."]}
    assert db.session.get(ExperimentGroup, group.id).name is None


def test_patch_group_keeping_its_own_name_is_allowed(client):
    owner, project, headers = _owner_setup()
    group = make_group(project, name="mine")

    response = client.patch(_url(group), json={"name": "mine"}, headers=headers)

    assert response.status_code == 200
    assert response.json["name"] == "mine"


def test_patch_group_name_used_in_another_project_is_allowed(client):
    owner, project, headers = _owner_setup()
    make_group(make_project(owner, "other"), name="shared")
    group = make_group(project)

    response = client.patch(_url(group), json={"name": "shared"}, headers=headers)

    assert response.status_code == 200
    assert response.json["name"] == "shared"


def test_patch_group_ignores_unknown_and_read_only_fields(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)
    before = client.get(_url(group), headers=headers).json

    response = client.patch(
        _url(group),
        json={"id": 999, "uuid": "0" * 32, "created_at": "2000-01-01T00:00:00+00:00",
              "search_algorithm": "grid", "content": "x", "bogus": 1},
        headers=headers,
    )

    assert response.status_code == 200
    after = response.json
    for key in ("id", "uuid", "created_at", "search_algorithm", "content"):
        assert after[key] == before[key]


def test_patch_group_concurrency_applies_to_the_group_and_its_hptuning(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)

    response = client.patch(_url(group), json={"concurrency": 3}, headers=headers)

    assert response.status_code == 200
    assert response.json["concurrency"] == 3
    assert response.json["hptuning"]["concurrency"] == 3


def test_patch_group_concurrency_below_one_is_400(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)

    response = client.patch(_url(group), json={"concurrency": 0}, headers=headers)

    assert response.status_code == 400
    assert list(response.json) == ["concurrency"]
    assert db.session.get(ExperimentGroup, group.id).concurrency == 5


def test_patch_group_concurrency_of_a_finished_group_is_400(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)
    _finish(group)

    response = client.patch(_url(group), json={"concurrency": 2}, headers=headers)

    assert response.status_code == 400
    assert response.json == {
        "concurrency": ["The group is succeeded; its concurrency can no longer change."]
    }
    assert db.session.get(ExperimentGroup, group.id).concurrency == 5


def test_patch_group_name_of_a_finished_group_is_allowed(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)
    _finish(group)

    response = client.patch(_url(group), json={"name": "done"}, headers=headers)

    assert response.status_code == 200
    assert response.json["name"] == "done"


def test_patch_group_by_a_viewer_is_403(client):
    owner, project, _ = _owner_setup()
    group = make_group(project)
    viewer = make_user("viewer")

    response = client.patch(
        _url(group), json={"description": "x"}, headers=auth(make_token(viewer))
    )

    assert response.status_code == 403
    assert response.json == {"detail": "You do not have permission to perform this action."}


# ---- DELETE ----------------------------------------------------------------------------


def test_delete_group_answers_204_with_an_empty_body(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)

    response = client.delete(_url(group), headers=headers)

    assert response.status_code == 204
    assert response.data == b""


def test_deleted_group_is_404_afterwards(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)
    client.delete(_url(group), headers=headers)

    response = client.get(_url(group), headers=headers)

    assert response.status_code == 404
    assert response.json == {"detail": "Not found."}


def test_delete_group_removes_its_experiments_statuses_values_bookmarks_and_tensorboards(client):
    owner, project, headers = _owner_setup()
    group = make_group(project)
    kept = make_group(project, content=grid_yml(3))
    client.post(_url(group, "bookmark"), headers=headers)
    db.session.add(TensorboardJob(group_id=group.id, user_id=owner.id, status="stopped"))
    db.session.commit()
    experiment_ids = select(Experiment.id).where(Experiment.group_id == group.id)

    client.delete(_url(group), headers=headers)

    assert _count(ExperimentGroup, ExperimentGroup.id == group.id) == 0
    assert _count(Experiment, Experiment.group_id == group.id) == 0
    assert _count(ExperimentStatus, ExperimentStatus.experiment_id.in_(experiment_ids)) == 0
    assert _count(ExperimentValue, ExperimentValue.experiment_id.in_(experiment_ids)) == 0
    assert _count(GroupStatus, GroupStatus.group_id == group.id) == 0
    assert _count(Bookmark, Bookmark.group_id == group.id) == 0
    assert _count(TensorboardJob, TensorboardJob.group_id == group.id) == 0
    assert _count(Experiment, Experiment.group_id == kept.id) == 3


def test_delete_group_by_a_member_is_403_and_keeps_the_group(client):
    owner, project, _ = _owner_setup()
    group = make_group(project)
    member = make_user("member")
    add_member(project, member, "member")

    response = client.delete(_url(group), headers=auth(make_token(member)))

    assert response.status_code == 403
    assert _count(ExperimentGroup, ExperimentGroup.id == group.id) == 1


def test_delete_unknown_group_is_404(client):
    owner, project, headers = _owner_setup()

    response = client.delete("/api/v1/root/quick-start/groups/4242", headers=headers)

    assert response.status_code == 404


# ---- list ------------------------------------------------------------------------------


def test_list_groups_rows_have_exactly_the_contract_keys(client):
    owner, project, headers = _owner_setup()
    make_group(project)

    response = client.get("/api/v1/root/quick-start/groups", headers=headers)

    assert response.status_code == 200
    assert set(response.json) == {"count", "next", "previous", "results"}
    assert [set(row) for row in response.json["results"]] == [ROW_KEYS]


def test_list_groups_is_newest_first_by_default(client):
    owner, project, headers = _owner_setup()
    first = make_group(project, content=grid_yml(1))
    second = make_group(project, content=grid_yml(1))

    body = client.get("/api/v1/root/quick-start/groups", headers=headers).json

    assert [row["id"] for row in body["results"]] == [second.id, first.id]


def test_list_groups_leaves_out_archived_groups(client):
    owner, project, headers = _owner_setup()
    archived = make_group(project, content=grid_yml(1))
    shown = make_group(project, content=grid_yml(1))
    client.post(_url(archived, "archive"), headers=headers)

    body = client.get("/api/v1/root/quick-start/groups", headers=headers).json

    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [shown.id]


def test_list_groups_with_archived_true_shows_archived_groups(client):
    owner, project, headers = _owner_setup()
    archived = make_group(project, content=grid_yml(1))
    client.post(_url(archived, "archive"), headers=headers)

    body = client.get("/api/v1/root/quick-start/groups?archived=true", headers=headers).json

    assert archived.id in [row["id"] for row in body["results"]]


def test_list_groups_marks_the_requesting_users_bookmarks(client):
    owner, project, headers = _owner_setup()
    marked = make_group(project, content=grid_yml(1))
    unmarked = make_group(project, content=grid_yml(1))
    client.post(_url(marked, "bookmark"), headers=headers)

    body = client.get("/api/v1/root/quick-start/groups", headers=headers).json

    assert {row["id"]: row["bookmarked"] for row in body["results"]} == {
        marked.id: True, unmarked.id: False,
    }


def test_list_groups_of_another_project_is_not_mixed_in(client):
    owner, project, headers = _owner_setup()
    make_group(make_project(owner, "other"), content=grid_yml(1))

    body = client.get("/api/v1/root/quick-start/groups", headers=headers).json

    assert body == {"count": 0, "next": None, "previous": None, "results": []}


# ---- create ----------------------------------------------------------------------------


def test_create_group_answers_201_with_the_detail(client):
    owner, project, headers = _owner_setup()

    response = client.post(
        "/api/v1/root/quick-start/groups",
        json={"content": RANDOM_YML, "name": "search", "description": "d", "tags": ["x"]},
        headers=headers,
    )

    assert response.status_code == 201
    body = response.json
    assert set(body) == DETAIL_KEYS
    assert (body["name"], body["description"], body["tags"]) == ("search", "d", ["x"])
    assert body["num_experiments"] == 10
    assert body["num_pending_experiments"] == 10
    assert body["last_status"] == "created"
    assert _count(Experiment, Experiment.group_id == body["id"]) == 10


def test_create_group_ignores_the_read_only_fields_the_client_sends(client):
    owner, project, headers = _owner_setup()
    client_body = {
        "id": None, "uuid": None, "name": None, "unique_name": None, "user": None,
        "description": None, "last_status": None, "project": None, "created_at": None,
        "updated_at": None, "started_at": None, "finished_at": None, "tags": None,
        "concurrency": None, "search_algorithm": None, "current_iteration": None,
        "content": RANDOM_YML, "hptuning": None, "has_tensorboard": None,
        "num_experiments": None, "bookmarked": None,
    }

    response = client.post("/api/v1/root/quick-start/groups", json=client_body, headers=headers)

    assert response.status_code == 201
    assert response.json["user"] == "root"


def test_create_group_with_invalid_content_is_400_naming_the_path(client):
    owner, project, headers = _owner_setup()
    content = RANDOM_YML.replace("linspace: 0.001:0.1:5", "linspace: 0.1:0.001:5")

    response = client.post(
        "/api/v1/root/quick-start/groups", json={"content": content}, headers=headers
    )

    assert response.status_code == 400
    assert response.json == {
        "content": [
            "hptuning.matrix.learning_rate.linspace: stop (0.001) must be greater than start (0.1)"
        ]
    }
    assert _count(ExperimentGroup) == 0


def test_create_group_without_content_is_400(client):
    owner, project, headers = _owner_setup()

    response = client.post("/api/v1/root/quick-start/groups", json={"name": "x"}, headers=headers)

    assert response.status_code == 400
    assert response.json == {"content": ["This field is required."]}


def test_create_group_with_a_name_already_used_is_400(client):
    owner, project, headers = _owner_setup()
    make_group(project, name="taken")

    response = client.post(
        "/api/v1/root/quick-start/groups", json={"content": RANDOM_YML, "name": "taken"},
        headers=headers,
    )

    assert response.status_code == 400
    assert response.json == {"name": ["A group named 'taken' already exists in this project."]}
    assert _count(ExperimentGroup) == 1


def test_create_group_by_a_viewer_is_403(client):
    owner, project, _ = _owner_setup()
    viewer = make_user("viewer")

    response = client.post(
        "/api/v1/root/quick-start/groups", json={"content": RANDOM_YML},
        headers=auth(make_token(viewer)),
    )

    assert response.status_code == 403
    assert _count(ExperimentGroup) == 0


def test_create_group_by_a_member_is_owned_by_the_member(client):
    owner, project, _ = _owner_setup()
    member = make_user("member")
    add_member(project, member, "member")

    response = client.post(
        "/api/v1/root/quick-start/groups", json={"content": grid_yml(2)},
        headers=auth(make_token(member)),
    )

    assert response.status_code == 201
    assert response.json["user"] == "member"
    assert response.json["project"] == "root.quick-start"


def test_patch_group_with_null_tags_and_name_clears_them(client):
    owner, project, headers = _owner_setup()
    group = make_group(project, name="named", tags=["a"])

    response = client.patch(_url(group), json={"name": None, "tags": None}, headers=headers)

    assert response.status_code == 200
    assert (response.json["name"], response.json["tags"]) == (None, None)


def test_delete_group_stops_its_running_tensorboard(client):
    from dashboard import tensorboard_process

    owner, project, headers = _owner_setup()
    group = make_group(project, content=grid_yml(2))
    job_id = client.post(_url(group, "tensorboard/start"), headers=headers).json["id"]
    pid = db.session.get(TensorboardJob, job_id).pid

    response = client.delete(_url(group), headers=headers)

    assert response.status_code == 204
    assert not tensorboard_process.is_alive(pid)
