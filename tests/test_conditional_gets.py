"""Cheap polling: GET group and the group page's polled fragments answer 304 Not Modified to
their own ETag, until something they show changes; access is checked first."""

import pytest
from flask import g
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.services.group import statuses
from tests.factories import (
    add_member,
    alice_group,
    auth,
    grid_yml,
    make_token,
    make_user,
    start_group,
)
from tests.support.web import HTMX, sign_in

API = "/api/v1/alice/demo"
# Every fragment the group page polls while the group runs, with the headers htmx sends.
FRAGMENTS = {
    "header": ("live?status=running", HTMX),
    "table": ("experiments", {**HTMX, "HX-Trigger": "experiments-live"}),
    "plots": ("plots", HTMX),
    "coverage": ("coverage?colour=status", HTMX),
}


@pytest.fixture
def running(client):
    """alice's running 4-experiment group, alice's token and a client signed in as her."""
    alice, project, group = alice_group(grid_yml(4))
    start_group(group)
    sign_in(client, "alice")
    return {"alice": alice, "project": project, "group": group, "headers": auth(make_token(alice))}


def _again(client, url, response, headers):
    """The same request with the first answer's ETag in If-None-Match."""
    g.pop("_login_user", None)
    return client.get(url, headers={**headers, "If-None-Match": response.headers["ETag"]})


def _group_url(group):
    return f"{API}/groups/{group.id}"


def _fragment_url(group, name):
    return f"/alice/demo/groups/{group.id}/{FRAGMENTS[name][0]}"


def _experiment_ids(group):
    return db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


# ---- 304 for each answer, with its own ETag ------------------------------------------------


def test_get_group_answers_304_without_a_body_to_its_own_etag(client, running):
    url, headers = _group_url(running["group"]), running["headers"]
    first = client.get(url, headers=headers)

    again = _again(client, url, first, headers)

    assert first.status_code == 200
    assert first.headers["ETag"].startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize("name", FRAGMENTS)
def test_each_polled_fragment_answers_304_to_its_own_etag(client, running, name):
    url, headers = _fragment_url(running["group"], name), FRAGMENTS[name][1]
    first = client.get(url, headers=headers)

    again = _again(client, url, first, headers)

    assert first.status_code == 200
    assert (again.status_code, again.data) == (304, b"")


def test_no_answer_takes_another_ones_etag(client, running):
    group, headers = running["group"], running["headers"]
    tags = {"json": client.get(_group_url(group), headers=headers).headers["ETag"]}
    for name, (_suffix, htmx) in FRAGMENTS.items():
        g.pop("_login_user", None)
        tags[name] = client.get(_fragment_url(group, name), headers=htmx).headers["ETag"]
    assert len(set(tags.values())) == len(tags)
    g.pop("_login_user", None)
    response = client.get(
        _fragment_url(group, "header"), headers={**HTMX, "If-None-Match": tags["table"]}
    )
    assert response.status_code == 200


def test_another_query_string_is_another_etag(client, running):
    group = running["group"]
    first = client.get(f"/alice/demo/groups/{group.id}/coverage?colour=status", headers=HTMX)
    g.pop("_login_user", None)
    other = client.get(
        f"/alice/demo/groups/{group.id}/coverage?colour=metric",
        headers={**HTMX, "If-None-Match": first.headers["ETag"]},
    )
    assert other.status_code == 200


# ---- what costs a 304 ---------------------------------------------------------------------


def test_a_304_of_get_group_takes_two_statements(client, count_queries, running):
    url, headers = _group_url(running["group"]), running["headers"]
    first = client.get(url, headers=headers)
    db.session.expunge_all()

    with count_queries() as statements:
        again = _again(client, url, first, headers)

    assert again.status_code == 304
    assert len(statements) == 2, statements  # the token with the project, the group's state


def test_a_304_of_a_fragment_takes_three_statements(client, count_queries, running):
    url, headers = _fragment_url(running["group"], "table"), FRAGMENTS["table"][1]
    first = client.get(url, headers=headers)
    db.session.expunge_all()

    with count_queries() as statements:
        again = _again(client, url, first, headers)

    assert again.status_code == 304
    assert len(statements) == 3, statements  # the session's user, the project, the state


# ---- every change that alters an answer changes its ETag -------------------------------------


def _status_change(client, running):
    statuses.set_group_status(running["group"], "stopping")
    db.session.commit()


def _metric_report(client, running):
    first = _experiment_ids(running["group"])[0]
    response = client.post(
        f"{API}/experiments/{first}/metrics",
        headers=running["headers"],
        json={"values": {"loss": 0.5}},
    )
    assert response.status_code == 201


def _bookmark(client, running):
    response = client.post(f"{_group_url(running['group'])}/bookmark", headers=running["headers"])
    assert response.status_code == 201


def _description_edit(client, running):
    response = client.patch(
        _group_url(running["group"]), headers=running["headers"], json={"description": "tuned"}
    )
    assert response.status_code == 200


def _tensorboard_start(client, running):
    response = client.post(
        f"{_group_url(running['group'])}/tensorboard/start", headers=running["headers"]
    )
    assert response.status_code in (200, 201)


CHANGES = [_status_change, _metric_report, _bookmark, _description_edit, _tensorboard_start]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__.strip("_"))
def test_a_changed_group_answers_200_with_a_new_etag(client, running, change):
    url, headers = _group_url(running["group"]), running["headers"]
    first = client.get(url, headers=headers)

    change(client, running)
    again = _again(client, url, first, headers)

    assert again.status_code == 200
    assert again.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize("name", FRAGMENTS)
@pytest.mark.parametrize(
    "change",
    [_status_change, _metric_report, _description_edit],
    ids=lambda change: change.__name__.strip("_"),
)
def test_a_changed_group_answers_each_fragment_anew(client, running, name, change):
    url, headers = _fragment_url(running["group"], name), FRAGMENTS[name][1]
    first = client.get(url, headers=headers)

    change(client, running)
    again = _again(client, url, first, headers)

    assert again.status_code in (200, 286)  # 286: the header's poll ends once the group does
    assert again.headers["ETag"] != first.headers["ETag"]


def test_another_users_bookmark_keeps_alices_etag(client, running):
    url, headers = _group_url(running["group"]), running["headers"]
    first = client.get(url, headers=headers)
    bob = make_user("bob")
    add_member(running["project"], bob, "viewer")
    client.post(f"{url}/bookmark", headers=auth(make_token(bob)))

    assert _again(client, url, first, headers).status_code == 304


# ---- access first --------------------------------------------------------------------------


def test_another_user_gets_the_answer_not_a_304(client, running):
    url = _group_url(running["group"])
    first = client.get(url, headers=running["headers"])
    bob = make_user("bob")
    add_member(running["project"], bob, "member")
    bobs = auth(make_token(bob))

    response = _again(client, url, first, bobs)

    assert response.status_code == 200
    assert response.json["bookmarked"] is False


def test_an_outsider_holding_the_etag_of_a_private_group_gets_404(client):
    alice, project, group = alice_group(grid_yml(2))
    project.is_public = False
    db.session.commit()
    url = _group_url(group)
    first = client.get(url, headers=auth(make_token(alice)))
    mallory = auth(make_token(make_user("mallory")))

    assert _again(client, url, first, mallory).status_code == 404


def test_a_fragment_etag_without_a_session_still_asks_to_sign_in(client, running):
    url, headers = _fragment_url(running["group"], "header"), FRAGMENTS["header"][1]
    first = client.get(url, headers=headers)
    anonymous = client.application.test_client()

    again = _again(anonymous, url, first, headers)

    assert again.status_code == 401
    assert again.headers["HX-Redirect"].startswith("/login")
