"""Group actions of the JSON API: bookmarks, archive and restore, TensorBoard."""

import re

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Bookmark, GroupStatus
from tests.factories import auth, grid_yml, make_token, make_user, owner_with_group, start_group
from tests.support.contract import GROUP_ROW_KEYS

TENSORBOARD_KEYS = {
    "id",
    "uuid",
    "user",
    "name",
    "description",
    "project",
    "unique_name",
    "experiment_group",
    "last_status",
    "tags",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "url",
}


def _url(group, suffix=""):
    return f"/api/v1/root/quick-start/groups/{group.id}/{suffix}"


def _group_statuses(group):
    return db.session.scalars(
        select(GroupStatus.status).where(GroupStatus.group_id == group.id).order_by(GroupStatus.id)
    ).all()


# ---- bookmarks -------------------------------------------------------------------------


def _bookmark_count(group):
    return db.session.execute(
        select(func.count()).select_from(Bookmark).where(Bookmark.group_id == group.id)
    ).scalar_one()


def test_bookmark_answers_201_with_an_empty_body_and_marks_the_group(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(_url(root.group, "bookmark"), headers=root.headers)

    assert response.status_code == 201
    assert response.data == b""
    assert client.get(_url(root.group), headers=root.headers).json["bookmarked"] is True


def test_bookmark_twice_is_idempotent(client):
    root = owner_with_group(grid_yml(10))
    client.post(_url(root.group, "bookmark"), headers=root.headers)

    response = client.post(_url(root.group, "bookmark"), headers=root.headers)

    assert response.status_code == 201
    assert _bookmark_count(root.group) == 1


def test_bookmarked_is_per_requesting_user(client):
    root = owner_with_group(grid_yml(10))
    other = make_user("other")
    client.post(_url(root.group, "bookmark"), headers=root.headers)

    body = client.get(_url(root.group), headers=auth(make_token(other))).json

    assert body["bookmarked"] is False


def test_a_viewer_may_bookmark(client):
    root = owner_with_group(grid_yml(10))
    viewer = make_user("viewer")

    response = client.post(_url(root.group, "bookmark"), headers=auth(make_token(viewer)))

    assert response.status_code == 201


def test_unbookmark_answers_204_then_404(client):
    root = owner_with_group(grid_yml(10))
    client.post(_url(root.group, "bookmark"), headers=root.headers)

    first = client.delete(_url(root.group, "unbookmark"), headers=root.headers)
    second = client.delete(_url(root.group, "unbookmark"), headers=root.headers)

    assert first.status_code == 204
    assert first.data == b""
    assert second.status_code == 404
    assert set(second.json) == {"detail"}
    assert _bookmark_count(root.group) == 0


def test_unbookmark_leaves_other_users_bookmarks(client):
    root = owner_with_group(grid_yml(10))
    other = make_user("other")
    other_headers = auth(make_token(other))
    client.post(_url(root.group, "bookmark"), headers=root.headers)
    client.post(_url(root.group, "bookmark"), headers=other_headers)

    client.delete(_url(root.group, "unbookmark"), headers=root.headers)

    assert client.get(_url(root.group), headers=other_headers).json["bookmarked"] is True


def test_bookmarks_list_of_self_holds_group_list_rows(client):
    root = owner_with_group(grid_yml(10))
    client.post(_url(root.group, "bookmark"), headers=root.headers)

    response = client.get("/api/v1/bookmarks/root/groups", headers=root.headers)

    assert response.status_code == 200
    body = response.json
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert [set(item) for item in body["results"]] == [{"content_object"}]
    row = body["results"][0]["content_object"]
    assert set(row) == GROUP_ROW_KEYS
    assert row["id"] == root.group.id
    assert row["unique_name"] == f"root.quick-start.{root.group.id}"
    assert row["bookmarked"] is True


def test_bookmarks_list_of_another_user_is_empty(client):
    root = owner_with_group(grid_yml(10))
    client.post(_url(root.group, "bookmark"), headers=root.headers)
    other = make_user("other")

    response = client.get("/api/v1/bookmarks/root/groups", headers=auth(make_token(other)))

    assert response.status_code == 200
    assert response.json == {"count": 0, "next": None, "previous": None, "results": []}


def test_bookmarks_list_of_another_user_as_staff_shows_them(client):
    root = owner_with_group(grid_yml(10))
    client.post(_url(root.group, "bookmark"), headers=root.headers)
    staff = make_user("staff", staff=True)

    response = client.get("/api/v1/bookmarks/root/groups", headers=auth(make_token(staff)))

    assert response.status_code == 200
    assert response.json["count"] == 1
    row = response.json["results"][0]["content_object"]
    assert row["id"] == root.group.id
    assert row["bookmarked"] is False


def test_bookmarks_list_leaves_out_unbookmarked_groups(client):
    root = owner_with_group(grid_yml(10))
    client.post(_url(root.group, "bookmark"), headers=root.headers)
    client.delete(_url(root.group, "unbookmark"), headers=root.headers)

    body = client.get("/api/v1/bookmarks/root/groups", headers=root.headers).json

    assert body["count"] == 0


# ---- archive / restore -----------------------------------------------------------------


def test_archive_answers_200_with_an_empty_body(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(_url(root.group, "archive"), headers=root.headers)

    assert response.status_code == 200
    assert response.data == b""


def test_archived_group_still_answers_get_by_id_and_keeps_its_running_state(client):
    root = owner_with_group(grid_yml(10))
    start_group(root.group)
    client.post(_url(root.group, "archive"), headers=root.headers)

    response = client.get(_url(root.group), headers=root.headers)

    assert response.status_code == 200
    assert response.json["last_status"] == "running"
    assert _group_statuses(root.group) == ["created", "running"]


def test_restore_brings_an_archived_group_back_into_the_list(client):
    root = owner_with_group(grid_yml(10))
    client.post(_url(root.group, "archive"), headers=root.headers)

    response = client.post(_url(root.group, "restore"), headers=root.headers)

    assert response.status_code == 200
    assert response.data == b""
    body = client.get("/api/v1/root/quick-start/groups", headers=root.headers).json
    assert [row["id"] for row in body["results"]] == [root.group.id]


def test_archive_by_a_viewer_is_403(client):
    root = owner_with_group(grid_yml(10))
    viewer = make_user("viewer")

    response = client.post(_url(root.group, "archive"), headers=auth(make_token(viewer)))

    assert response.status_code == 403
    assert client.get("/api/v1/root/quick-start/groups", headers=root.headers).json["count"] == 1


# ---- TensorBoard -----------------------------------------------------------------------


def test_tensorboard_start_answers_201_with_the_job(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(_url(root.group, "tensorboard/start"), headers=root.headers)

    assert response.status_code == 201
    body = response.json
    assert set(body) == TENSORBOARD_KEYS
    assert body["experiment_group"] == root.group.id
    assert body["unique_name"] == f"root.quick-start.tensorboards.{body['id']}"
    assert body["project"] == "root.quick-start"
    assert body["user"] == "root"
    assert body["last_status"] == "running"
    assert body["url"] == f"/tensorboard/root/quick-start/groups/{root.group.id}/"
    assert re.fullmatch(r"[0-9a-f]{32}", body["uuid"])


def test_tensorboard_start_again_while_running_answers_200_with_the_same_job(client):
    root = owner_with_group(grid_yml(10))
    first = client.post(_url(root.group, "tensorboard/start"), headers=root.headers)

    second = client.post(_url(root.group, "tensorboard/start"), headers=root.headers)

    assert second.status_code == 200
    assert second.json["id"] == first.json["id"]


def test_tensorboard_start_accepts_and_stores_the_clients_body(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(
        _url(root.group, "tensorboard/start"),
        json={"content": {"version": 1, "kind": "tensorboard"}, "is_managed": True},
        headers=root.headers,
    )

    assert response.status_code == 201


def test_tensorboard_stop_answers_200_and_again_200(client):
    root = owner_with_group(grid_yml(10))
    client.post(_url(root.group, "tensorboard/start"), headers=root.headers)

    first = client.post(_url(root.group, "tensorboard/stop"), headers=root.headers)
    second = client.post(_url(root.group, "tensorboard/stop"), headers=root.headers)

    assert (first.status_code, first.data) == (200, b"")
    assert (second.status_code, second.data) == (200, b"")


def test_tensorboard_stop_without_any_tensorboard_answers_200(client):
    root = owner_with_group(grid_yml(10))

    response = client.post(_url(root.group, "tensorboard/stop"), headers=root.headers)

    assert response.status_code == 200


def test_has_tensorboard_goes_from_null_to_true_to_false(client):
    root = owner_with_group(grid_yml(10))
    never = client.get(_url(root.group), headers=root.headers).json["has_tensorboard"]
    client.post(_url(root.group, "tensorboard/start"), headers=root.headers)
    started = client.get(_url(root.group), headers=root.headers).json["has_tensorboard"]
    client.post(_url(root.group, "tensorboard/stop"), headers=root.headers)
    stopped = client.get(_url(root.group), headers=root.headers).json["has_tensorboard"]

    assert (never, started, stopped) == (None, True, False)


def test_tensorboard_start_after_stop_creates_a_new_job(client):
    root = owner_with_group(grid_yml(10))
    first = client.post(_url(root.group, "tensorboard/start"), headers=root.headers)
    client.post(_url(root.group, "tensorboard/stop"), headers=root.headers)

    second = client.post(_url(root.group, "tensorboard/start"), headers=root.headers)

    assert second.status_code == 201
    assert second.json["id"] != first.json["id"]
    assert client.get(_url(root.group), headers=root.headers).json["has_tensorboard"] is True


def test_tensorboard_start_by_a_viewer_is_403(client):
    root = owner_with_group(grid_yml(10))
    viewer = make_user("viewer")

    response = client.post(_url(root.group, "tensorboard/start"), headers=auth(make_token(viewer)))

    assert response.status_code == 403
    assert client.get(_url(root.group), headers=root.headers).json["has_tensorboard"] is None
