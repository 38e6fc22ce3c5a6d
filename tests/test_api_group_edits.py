"""Editing and deleting a group through the JSON API: PATCH / PUT and DELETE (CONTRACT.md 2)."""

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
from dashboard.services.group import statuses
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    owner_with_project,
)
from tests.support.contract import GROUP_DETAIL_KEYS


def _url(group, suffix=""):
    return f"/api/v1/root/quick-start/groups/{group.id}/{suffix}"


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _finish(group, status="succeeded"):
    statuses.set_group_status(group, "running")
    statuses.set_group_status(group, status)
    db.session.commit()


# ---- PATCH / PUT -----------------------------------------------------------------------


def test_patch_group_description_answers_the_updated_detail(client):
    root = owner_with_project()
    group = make_group(root.project)

    response = client.patch(
        _url(group), json={"description": "new description"}, headers=root.headers
    )

    assert response.status_code == 200
    assert set(response.json) == GROUP_DETAIL_KEYS
    assert response.json["description"] == "new description"
    assert db.session.get(ExperimentGroup, group.id).description == "new description"


def test_put_group_updates_like_patch(client):
    root = owner_with_project()
    group = make_group(root.project)

    response = client.put(_url(group), json={"name": "renamed"}, headers=root.headers)

    assert response.status_code == 200
    assert response.json["name"] == "renamed"


def test_patch_group_tags_replaces_them(client):
    root = owner_with_project()
    group = make_group(root.project, tags=["a", "b"])

    response = client.patch(_url(group), json={"tags": ["c"]}, headers=root.headers)

    assert response.status_code == 200
    assert response.json["tags"] == ["c"]


def test_patch_group_tags_with_merge_adds_new_tags_to_existing_ones(client):
    root = owner_with_project()
    group = make_group(root.project, tags=["a", "b"])

    response = client.patch(
        _url(group), json={"tags": ["b", "c"], "merge": True}, headers=root.headers
    )

    assert response.status_code == 200
    assert response.json["tags"] == ["a", "b", "c"]


def test_patch_group_name_used_by_another_group_of_the_project_is_400(client):
    root = owner_with_project()
    make_group(root.project, name="taken")
    group = make_group(root.project)

    response = client.patch(_url(group), json={"name": "taken"}, headers=root.headers)

    assert response.status_code == 400
    assert response.json == {"name": ["A group named 'taken' already exists in this project."]}
    assert db.session.get(ExperimentGroup, group.id).name is None


def test_patch_group_keeping_its_own_name_is_allowed(client):
    root = owner_with_project()
    group = make_group(root.project, name="mine")

    response = client.patch(_url(group), json={"name": "mine"}, headers=root.headers)

    assert response.status_code == 200
    assert response.json["name"] == "mine"


def test_patch_group_name_used_in_another_project_is_allowed(client):
    root = owner_with_project()
    make_group(make_project(root.user, "other"), name="shared")
    group = make_group(root.project)

    response = client.patch(_url(group), json={"name": "shared"}, headers=root.headers)

    assert response.status_code == 200
    assert response.json["name"] == "shared"


def test_patch_group_ignores_unknown_and_read_only_fields(client):
    root = owner_with_project()
    group = make_group(root.project)
    before = client.get(_url(group), headers=root.headers).json

    response = client.patch(
        _url(group),
        json={
            "id": 999,
            "uuid": "0" * 32,
            "created_at": "2000-01-01T00:00:00+00:00",
            "search_algorithm": "grid",
            "content": "x",
            "bogus": 1,
        },
        headers=root.headers,
    )

    assert response.status_code == 200
    after = response.json
    for key in ("id", "uuid", "created_at", "search_algorithm", "content"):
        assert after[key] == before[key]


def test_patch_group_concurrency_applies_to_the_group_and_its_hptuning(client):
    root = owner_with_project()
    group = make_group(root.project)

    response = client.patch(_url(group), json={"concurrency": 3}, headers=root.headers)

    assert response.status_code == 200
    assert response.json["concurrency"] == 3
    assert response.json["hptuning"]["concurrency"] == 3


def test_patch_group_concurrency_below_one_is_400(client):
    root = owner_with_project()
    group = make_group(root.project)

    response = client.patch(_url(group), json={"concurrency": 0}, headers=root.headers)

    assert response.status_code == 400
    assert list(response.json) == ["concurrency"]
    assert db.session.get(ExperimentGroup, group.id).concurrency == 5


def test_patch_group_concurrency_of_a_finished_group_is_400(client):
    root = owner_with_project()
    group = make_group(root.project)
    _finish(group)

    response = client.patch(_url(group), json={"concurrency": 2}, headers=root.headers)

    assert response.status_code == 400
    assert response.json == {
        "concurrency": ["The group is succeeded; its concurrency can no longer change."]
    }
    assert db.session.get(ExperimentGroup, group.id).concurrency == 5


def test_patch_group_name_of_a_finished_group_is_allowed(client):
    root = owner_with_project()
    group = make_group(root.project)
    _finish(group)

    response = client.patch(_url(group), json={"name": "done"}, headers=root.headers)

    assert response.status_code == 200
    assert response.json["name"] == "done"


def test_patch_group_by_a_viewer_is_403(client):
    root = owner_with_project()
    group = make_group(root.project)
    viewer = make_user("viewer")

    response = client.patch(
        _url(group), json={"description": "x"}, headers=auth(make_token(viewer))
    )

    assert response.status_code == 403
    assert response.json == {"detail": "You do not have permission to perform this action."}


# ---- DELETE ----------------------------------------------------------------------------


def test_delete_group_answers_204_with_an_empty_body(client):
    root = owner_with_project()
    group = make_group(root.project)

    response = client.delete(_url(group), headers=root.headers)

    assert response.status_code == 204
    assert response.data == b""


def test_deleted_group_is_404_afterwards(client):
    root = owner_with_project()
    group = make_group(root.project)
    client.delete(_url(group), headers=root.headers)

    response = client.get(_url(group), headers=root.headers)

    assert response.status_code == 404
    assert response.json == {"detail": "Not found."}


def test_delete_group_removes_its_experiments_statuses_values_bookmarks_and_tensorboards(client):
    root = owner_with_project()
    group = make_group(root.project)
    kept = make_group(root.project, content=grid_yml(3))
    client.post(_url(group, "bookmark"), headers=root.headers)
    db.session.add(
        TensorboardJob(
            project_id=group.project_id, group_id=group.id, user_id=root.user.id, status="stopped"
        )
    )
    db.session.commit()
    experiment_ids = select(Experiment.id).where(Experiment.group_id == group.id)

    client.delete(_url(group), headers=root.headers)

    assert _count(ExperimentGroup, ExperimentGroup.id == group.id) == 0
    assert _count(Experiment, Experiment.group_id == group.id) == 0
    assert _count(ExperimentStatus, ExperimentStatus.experiment_id.in_(experiment_ids)) == 0
    assert _count(ExperimentValue, ExperimentValue.experiment_id.in_(experiment_ids)) == 0
    assert _count(GroupStatus, GroupStatus.group_id == group.id) == 0
    assert _count(Bookmark, Bookmark.group_id == group.id) == 0
    assert _count(TensorboardJob, TensorboardJob.group_id == group.id) == 0
    assert _count(Experiment, Experiment.group_id == kept.id) == 3


def test_delete_group_by_a_member_is_403_and_keeps_the_group(client):
    root = owner_with_project()
    group = make_group(root.project)
    member = make_user("member")
    add_member(root.project, member, "member")

    response = client.delete(_url(group), headers=auth(make_token(member)))

    assert response.status_code == 403
    assert _count(ExperimentGroup, ExperimentGroup.id == group.id) == 1


def test_delete_unknown_group_is_404(client):
    root = owner_with_project()

    response = client.delete("/api/v1/root/quick-start/groups/4242", headers=root.headers)

    assert response.status_code == 404
