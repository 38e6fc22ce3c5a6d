"""The group resource of the JSON API: get, list, create (CONTRACT.md 2-3)."""

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    Experiment,
    ExperimentGroup,
    TensorboardJob,
)
from tests.factories import (
    RANDOM_YML,
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    owner_with_group,
    owner_with_project,
)
from tests.support.contract import GROUP_DETAIL_KEYS, GROUP_ROW_KEYS

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


def _url(group, suffix=""):
    return f"/api/v1/root/quick-start/groups/{group.id}/{suffix}"


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


# ---- GET -------------------------------------------------------------------------------


def test_get_group_answers_the_detail_with_exactly_the_contract_keys(client):
    root = owner_with_project()
    group = make_group(root.project)

    response = client.get(_url(group), headers=root.headers)

    assert response.status_code == 200
    assert set(response.json) == GROUP_DETAIL_KEYS


def test_get_group_shows_the_reference_page_values(client):
    root = owner_with_project()
    group = make_group(root.project)

    body = client.get(_url(group), headers=root.headers).json

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
    root = owner_with_project()
    group = make_group(root.project)
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    plan = ["scheduled", "starting", "running", "succeeded", "succeeded", "failed", "stopped"]
    for experiment_id, status in zip(ids, plan, strict=False):
        db.session.get(Experiment, experiment_id).status = status
    db.session.commit()

    body = client.get(_url(group), headers=root.headers).json

    assert body["num_experiments"] == 10
    assert body["num_pending_experiments"] == 3
    assert body["num_scheduled_experiments"] == 1
    assert body["num_running_experiments"] == 3
    assert body["num_succeeded_experiments"] == 2
    assert body["num_failed_experiments"] == 1
    assert body["num_stopped_experiments"] == 1


def test_get_group_of_another_project_is_404(client):
    root = owner_with_project()
    other = make_project(root.user, "other")
    group = make_group(other)

    response = client.get(_url(group), headers=root.headers)

    assert response.status_code == 404
    assert response.json == {"detail": "Not found."}


def test_get_group_on_a_public_project_is_readable_by_any_signed_in_user(client):
    root = owner_with_project()
    group = make_group(root.project)
    reader = make_user("reader")

    response = client.get(_url(group), headers=auth(make_token(reader)))

    assert response.status_code == 200
    assert response.json["bookmarked"] is False


# ---- list ------------------------------------------------------------------------------


def test_list_groups_rows_have_exactly_the_contract_keys(client):
    root = owner_with_project()
    make_group(root.project)

    response = client.get("/api/v1/root/quick-start/groups", headers=root.headers)

    assert response.status_code == 200
    assert set(response.json) == {"count", "next", "previous", "results"}
    assert [set(row) for row in response.json["results"]] == [GROUP_ROW_KEYS]


def test_list_groups_is_newest_first_by_default(client):
    root = owner_with_project()
    first = make_group(root.project, content=grid_yml(1))
    second = make_group(root.project, content=grid_yml(1))

    body = client.get("/api/v1/root/quick-start/groups", headers=root.headers).json

    assert [row["id"] for row in body["results"]] == [second.id, first.id]


def test_list_groups_leaves_out_archived_groups(client):
    root = owner_with_project()
    archived = make_group(root.project, content=grid_yml(1))
    shown = make_group(root.project, content=grid_yml(1))
    client.post(_url(archived, "archive"), headers=root.headers)

    body = client.get("/api/v1/root/quick-start/groups", headers=root.headers).json

    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [shown.id]


def test_list_groups_with_archived_true_shows_archived_groups(client):
    root = owner_with_project()
    archived = make_group(root.project, content=grid_yml(1))
    client.post(_url(archived, "archive"), headers=root.headers)

    body = client.get("/api/v1/root/quick-start/groups?archived=true", headers=root.headers).json

    assert archived.id in [row["id"] for row in body["results"]]


def test_list_groups_marks_the_requesting_users_bookmarks(client):
    root = owner_with_project()
    marked = make_group(root.project, content=grid_yml(1))
    unmarked = make_group(root.project, content=grid_yml(1))
    client.post(_url(marked, "bookmark"), headers=root.headers)

    body = client.get("/api/v1/root/quick-start/groups", headers=root.headers).json

    assert {row["id"]: row["bookmarked"] for row in body["results"]} == {
        marked.id: True,
        unmarked.id: False,
    }


def test_list_groups_of_another_project_is_not_mixed_in(client):
    root = owner_with_project()
    make_group(make_project(root.user, "other"), content=grid_yml(1))

    body = client.get("/api/v1/root/quick-start/groups", headers=root.headers).json

    assert body == {"count": 0, "next": None, "previous": None, "results": []}


# ---- create ----------------------------------------------------------------------------


def test_create_group_answers_201_with_the_detail(client):
    root = owner_with_project()

    response = client.post(
        "/api/v1/root/quick-start/groups",
        json={"content": RANDOM_YML, "name": "search", "description": "d", "tags": ["x"]},
        headers=root.headers,
    )

    assert response.status_code == 201
    body = response.json
    assert set(body) == GROUP_DETAIL_KEYS
    assert (body["name"], body["description"], body["tags"]) == ("search", "d", ["x"])
    assert body["num_experiments"] == 10
    assert body["num_pending_experiments"] == 10
    assert body["last_status"] == "created"
    assert _count(Experiment, Experiment.group_id == body["id"]) == 10


def test_create_group_ignores_the_read_only_fields_the_client_sends(client):
    root = owner_with_project()
    client_body = {
        "id": None,
        "uuid": None,
        "name": None,
        "unique_name": None,
        "user": None,
        "description": None,
        "last_status": None,
        "project": None,
        "created_at": None,
        "updated_at": None,
        "started_at": None,
        "finished_at": None,
        "tags": None,
        "concurrency": None,
        "search_algorithm": None,
        "current_iteration": None,
        "content": RANDOM_YML,
        "hptuning": None,
        "has_tensorboard": None,
        "num_experiments": None,
        "bookmarked": None,
    }

    response = client.post(
        "/api/v1/root/quick-start/groups", json=client_body, headers=root.headers
    )

    assert response.status_code == 201
    assert response.json["user"] == "root"


def test_create_group_with_invalid_content_is_400_naming_the_path(client):
    root = owner_with_project()
    content = RANDOM_YML.replace("linspace: 0.001:0.1:5", "linspace: 0.1:0.001:5")

    response = client.post(
        "/api/v1/root/quick-start/groups", json={"content": content}, headers=root.headers
    )

    assert response.status_code == 400
    assert response.json == {
        "content": [
            "hptuning.matrix.learning_rate.linspace: stop (0.001) must be greater than start (0.1)"
        ]
    }
    assert _count(ExperimentGroup) == 0


def test_create_group_with_a_concurrency_past_the_rule_is_400_naming_the_field(client):
    root = owner_with_project()
    content = RANDOM_YML.replace("concurrency: 5", "concurrency: 50000")

    response = client.post(
        "/api/v1/root/quick-start/groups", json={"content": content}, headers=root.headers
    )

    assert response.status_code == 400
    assert response.json == {"content": ["hptuning.concurrency: must be <= 10,000, got 50000"]}
    assert _count(ExperimentGroup) == 0


def test_patch_group_concurrency_up_to_the_polyaxonfiles_bound_is_allowed(client):
    root = owner_with_group(RANDOM_YML.replace("concurrency: 5", "concurrency: 10000"))

    response = client.patch(_url(root.group), json={"concurrency": 10000}, headers=root.headers)

    assert response.status_code == 200
    assert response.json["concurrency"] == 10000


def test_create_group_without_content_is_400(client):
    root = owner_with_project()

    response = client.post(
        "/api/v1/root/quick-start/groups", json={"name": "x"}, headers=root.headers
    )

    assert response.status_code == 400
    assert response.json == {"content": ["This field is required."]}


def test_create_group_with_a_name_already_used_is_400(client):
    root = owner_with_project()
    make_group(root.project, name="taken")

    response = client.post(
        "/api/v1/root/quick-start/groups",
        json={"content": RANDOM_YML, "name": "taken"},
        headers=root.headers,
    )

    assert response.status_code == 400
    assert response.json == {"name": ["A group named 'taken' already exists in this project."]}
    assert _count(ExperimentGroup) == 1


def test_create_group_by_a_viewer_is_403(client):
    owner_with_project()
    viewer = make_user("viewer")

    response = client.post(
        "/api/v1/root/quick-start/groups",
        json={"content": RANDOM_YML},
        headers=auth(make_token(viewer)),
    )

    assert response.status_code == 403
    assert _count(ExperimentGroup) == 0


def test_create_group_by_a_member_is_owned_by_the_member(client):
    root = owner_with_project()
    member = make_user("member")
    add_member(root.project, member, "member")

    response = client.post(
        "/api/v1/root/quick-start/groups",
        json={"content": grid_yml(2)},
        headers=auth(make_token(member)),
    )

    assert response.status_code == 201
    assert response.json["user"] == "member"
    assert response.json["project"] == "root.quick-start"


def test_patch_group_with_null_tags_and_name_clears_them(client):
    root = owner_with_project()
    group = make_group(root.project, name="named", tags=["a"])

    response = client.patch(_url(group), json={"name": None, "tags": None}, headers=root.headers)

    assert response.status_code == 200
    assert (response.json["name"], response.json["tags"]) == (None, None)


def test_delete_group_stops_its_running_tensorboard(client):
    from dashboard.processes.control import is_alive

    root = owner_with_project()
    group = make_group(root.project, content=grid_yml(2))
    job_id = client.post(_url(group, "tensorboard/start"), headers=root.headers).json["id"]
    pid = db.session.get(TensorboardJob, job_id).pid

    response = client.delete(_url(group), headers=root.headers)

    assert response.status_code == 204
    assert not is_alive(pid)
