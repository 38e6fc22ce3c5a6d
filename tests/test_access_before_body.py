"""Access is checked before a body is read: a private project's write routes answer 404 to
outsiders and 403 to viewers whatever the body, so a bad body reveals nothing."""

import pytest
from sqlalchemy import select

from dashboard.api import ROUTES
from dashboard.extensions import db
from dashboard.models import Experiment
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
)

WRITES = sorted(
    (path, method)
    for path, method in ROUTES
    if method in ("POST", "PATCH", "PUT") and "{project_name}" in path
)
BAD_BODIES = {
    "malformed JSON": ("{not json", "application/json"),
    "wrong types": ('{"content": 5, "status": 5, "values": 5, "metric": 5}', "application/json"),
    "XML": ("<x/>", "application/xml"),
}


@pytest.fixture
def world(app):
    owner, outsider, viewer = make_user("owner"), make_user("outsider"), make_user("viewer")
    project = make_project(owner, "secret", public=False)
    add_member(project, viewer, "viewer")
    group = make_group(project, content=grid_yml(2))
    experiment = db.session.scalar(select(Experiment.id).where(Experiment.group_id == group.id))
    names = {
        "username": "owner",
        "project_name": "secret",
        "group_id": group.id,
        "experiment_id": experiment,
        # No job needs to exist: access is refused before the route looks for it.
        "tensorboard_id": 1,
    }
    return {
        "names": names,
        "outsider": auth(make_token(outsider)),
        "viewer": auth(make_token(viewer)),
    }


def _send(client, path, method, names, headers, body):
    raw, content_type = body
    url = "/api/v1" + path.format(**names)
    return client.open(url, method=method, data=raw, content_type=content_type, headers=headers)


def test_there_are_write_routes_to_check():
    assert len(WRITES) >= 15


@pytest.mark.parametrize("label", sorted(BAD_BODIES))
def test_outsiders_get_404_from_every_write_route_whatever_the_body(world, client, label):
    answers = {
        (path, method): _send(
            client, path, method, world["names"], world["outsider"], BAD_BODIES[label]
        )
        for path, method in WRITES
    }

    wrong = {
        route: (r.status_code, r.json)
        for route, r in answers.items()
        if (r.status_code, r.json) != (404, {"detail": "Not found."})
    }
    assert not wrong


def test_viewers_get_403_before_their_bad_body_is_read(world, client):
    # Bookmarking is a viewer's right and takes no body: it is no write to refuse.
    routes = [(p, m) for p, m in WRITES if not p.endswith("/bookmark/")]

    answers = {
        (path, method): _send(
            client, path, method, world["names"], world["viewer"], BAD_BODIES["malformed JSON"]
        )
        for path, method in routes
    }

    assert {route: r.status_code for route, r in answers.items() if r.status_code != 403} == {}
