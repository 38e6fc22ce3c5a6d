"""One operation, two transports: the JSON API and the UI leave the database in the same state."""

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Bookmark, Experiment, ExperimentGroup, GroupStatus
from dashboard.services.group import bookmarks
from dashboard.services.project.access import project_access
from tests.factories import alice_group, auth, make_group, make_token, move_experiments, start_group
from tests.support.web import csrf_of, sign_in

API = "/api/v1/alice/demo/groups/{id}/"
UI = "/alice/demo/groups/{id}/"


def state(group_id):
    """What an operation may change, without ids: the group, its rows, its bookmarks."""
    db.session.expire_all()
    group = db.session.get(ExperimentGroup, group_id)
    experiments = db.session.scalars(
        select(Experiment.status).where(Experiment.group_id == group_id).order_by(Experiment.status)
    ).all()
    history = db.session.execute(
        select(GroupStatus.status, GroupStatus.message)
        .where(GroupStatus.group_id == group_id)
        .order_by(GroupStatus.id)
    ).all()
    bookmarked_by = db.session.scalars(
        select(Bookmark.user_id).where(Bookmark.group_id == group_id).order_by(Bookmark.user_id)
    ).all()
    rows = {
        "experiments": experiments,
        "history": [tuple(row) for row in history],
        "bookmarked_by": bookmarked_by,
    }
    if group is None:
        return {"exists": False, **rows}
    return {
        "exists": True,
        "status": group.status,
        "description": group.description,
        "tags": group.tags,
        "archived": group.is_archived,
        "finished": group.finished_at is not None,
        **rows,
    }


def bookmark_first(group, user):
    access = project_access("alice", "demo", actor=user)
    bookmarks.bookmark_group(access, group.id)


# name: (setup, API call, UI form post); every call gets (client, group id, token or csrf).
OPERATIONS = {
    "stop": (
        None,
        lambda c, gid, key: c.post(API.format(id=gid) + "stop/", json={}, headers=auth(key)),
        lambda c, gid, csrf: c.post(UI.format(id=gid) + "stop", data={"csrf_token": csrf}),
    ),
    "stop pending": (
        None,
        lambda c, gid, key: c.post(
            API.format(id=gid) + "stop/", json={"pending": True}, headers=auth(key)
        ),
        lambda c, gid, csrf: c.post(
            UI.format(id=gid) + "stop", data={"csrf_token": csrf, "pending": "1"}
        ),
    ),
    "bookmark": (
        None,
        lambda c, gid, key: c.post(API.format(id=gid) + "bookmark/", headers=auth(key)),
        lambda c, gid, csrf: c.post(UI.format(id=gid) + "bookmark", data={"csrf_token": csrf}),
    ),
    "unbookmark": (
        bookmark_first,
        lambda c, gid, key: c.delete(API.format(id=gid) + "unbookmark/", headers=auth(key)),
        lambda c, gid, csrf: c.post(UI.format(id=gid) + "unbookmark", data={"csrf_token": csrf}),
    ),
    "description edit": (
        None,
        lambda c, gid, key: c.patch(
            API.format(id=gid),
            headers=auth(key),
            json={"description": "Tuned by hand", "tags": ["lr", "v2"]},
        ),
        lambda c, gid, csrf: c.post(
            UI.format(id=gid) + "edit",
            data={"csrf_token": csrf, "description": "Tuned by hand", "tags": "lr, v2"},
        ),
    ),
    "delete": (
        None,
        lambda c, gid, key: c.delete(API.format(id=gid), headers=auth(key)),
        lambda c, gid, csrf: c.post(UI.format(id=gid) + "delete", data={"csrf_token": csrf}),
    ),
}


def running_group(project):
    """A running group with 3 running, 2 succeeded and 5 pending experiments."""
    group = make_group(project)
    start_group(group)
    move_experiments(group, 3, "running")
    move_experiments(group, 2, "succeeded")
    return group


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_api_and_ui_leave_the_same_state(client, name):
    setup, through_api, through_ui = OPERATIONS[name]
    alice, project, _ = alice_group()
    by_api, by_ui = running_group(project), running_group(project)
    if setup:
        setup(by_api, alice)
        setup(by_ui, alice)
    before = state(by_api.id)
    assert state(by_ui.id) == before
    key = make_token(alice)
    sign_in(client, "alice")
    csrf = csrf_of(client, by_ui)

    assert through_api(client, by_api.id, key).status_code < 300
    assert through_ui(client, by_ui.id, csrf).status_code == 302

    after = state(by_api.id)
    assert after != before
    assert state(by_ui.id) == after
    assert db.session.scalar(select(func.count()).select_from(ExperimentGroup)) == (
        1 if name == "delete" else 3
    )
