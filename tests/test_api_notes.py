"""The Markdown notes of groups and experiments through the API: read, save by version, the 409
of a stale save, the 413 of a huge one, who may write them, and their sanitised HTML."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Note
from dashboard.services.experiment.credentials import issue_experiment_token
from dashboard.services.group import statuses
from tests.factories import add_member, auth, grid_yml, make_token, make_user, owner_with_group

UP = "/api/v1/root/quick-start"
EMPTY = {"markdown": "", "html": "", "version": 0, "updated_at": None, "updated_by": None}
KEYS = {"markdown", "html", "version", "updated_at", "updated_by"}


@pytest.fixture
def root(app):
    return owner_with_group(grid_yml(2))


@pytest.fixture(params=["group", "experiment"])
def notes_url(request, root):
    """The notes of the group, then of its first experiment: the same contract."""
    if request.param == "group":
        return f"{UP}/groups/{root.group.id}/notes/"
    return f"{UP}/experiments/{root.experiments[0].id}/notes/"


def _member(root, role):
    user = make_user(role)
    add_member(root.project, user, role)
    return auth(make_token(user))


def test_notes_never_saved_read_as_empty_version_0(client, root, notes_url):
    response = client.get(notes_url, headers=root.headers)

    assert response.status_code == 200
    assert response.get_json() == EMPTY


def test_a_save_answers_the_next_version_with_the_fields_get_answers(client, root, notes_url):
    saved = client.put(
        notes_url, json={"markdown": "# Plan\n\n*try* lr", "version": 0}, headers=root.headers
    )

    assert saved.status_code == 200
    body = saved.get_json()
    assert set(body) == KEYS
    assert (body["markdown"], body["version"], body["updated_by"]) == (
        "# Plan\n\n*try* lr",
        1,
        "root",
    )
    assert body["html"] == "<h1>Plan</h1>\n<p><em>try</em> lr</p>\n"
    assert body["updated_at"].endswith("+00:00")
    assert client.get(notes_url, headers=root.headers).get_json() == body


def test_each_save_raises_the_version_by_one(client, root, notes_url):
    for version in range(3):
        saved = client.put(
            notes_url, json={"markdown": f"v{version}", "version": version}, headers=root.headers
        )
        assert saved.get_json()["version"] == version + 1

    assert client.get(notes_url, headers=root.headers).get_json()["markdown"] == "v2"


def test_a_stale_save_is_a_409_holding_the_current_notes(client, root, notes_url):
    client.put(notes_url, json={"markdown": "first", "version": 0}, headers=root.headers)
    client.put(notes_url, json={"markdown": "second", "version": 1}, headers=root.headers)

    stale = client.put(notes_url, json={"markdown": "mine", "version": 1}, headers=root.headers)

    assert stale.status_code == 409
    body = stale.get_json()
    assert set(body) == {"detail", "markdown", "version"}
    assert (body["markdown"], body["version"]) == ("second", 2)
    assert "Someone saved these notes" in body["detail"]
    assert client.get(notes_url, headers=root.headers).get_json()["markdown"] == "second"


def test_a_first_save_over_existing_notes_is_stale_too(client, root, notes_url):
    client.put(notes_url, json={"markdown": "first", "version": 0}, headers=root.headers)

    again = client.put(notes_url, json={"markdown": "other", "version": 0}, headers=root.headers)

    assert again.status_code == 409
    assert (again.get_json()["markdown"], again.get_json()["version"]) == ("first", 1)


def test_a_version_never_reached_is_stale(client, root, notes_url):
    stale = client.put(notes_url, json={"markdown": "x", "version": 7}, headers=root.headers)

    assert stale.status_code == 409
    assert stale.get_json()["version"] == 0


def test_markdown_of_100_kb_is_kept_and_one_byte_more_is_a_413(client, root, notes_url):
    limit = "é" * (102_400 // 2)  # 2 bytes each in UTF-8: exactly 102,400 bytes

    kept = client.put(notes_url, json={"markdown": limit, "version": 0}, headers=root.headers)
    refused = client.put(
        notes_url, json={"markdown": limit + "x", "version": 1}, headers=root.headers
    )

    assert kept.status_code == 200
    assert refused.status_code == 413
    assert set(refused.get_json()) == {"detail"}
    assert client.get(notes_url, headers=root.headers).get_json()["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"markdown": "x"}, "version"),
        ({"version": 0}, "markdown"),
        ({"markdown": "x", "version": -1}, "version"),
        ({"markdown": "x", "version": "1"}, "version"),
        ({"markdown": "x", "version": 1.5}, "version"),
        ({"markdown": "x", "version": True}, "version"),
        ({"markdown": "x", "version": 2**31}, "version"),
        ({"markdown": 5, "version": 0}, "markdown"),
        ({"markdown": None, "version": 0}, "markdown"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(client, root, notes_url, body, field):
    response = client.put(notes_url, json=body, headers=root.headers)

    assert response.status_code == 400
    assert list(response.get_json()) == [field]


def test_viewers_read_notes_and_members_write_them(client, root, notes_url):
    viewer, member = _member(root, "viewer"), _member(root, "member")
    client.put(notes_url, json={"markdown": "by root", "version": 0}, headers=root.headers)

    assert client.get(notes_url, headers=viewer).get_json()["markdown"] == "by root"
    refused = client.put(notes_url, json={"markdown": "x", "version": 1}, headers=viewer)
    saved = client.put(notes_url, json={"markdown": "by member", "version": 1}, headers=member)

    assert refused.status_code == 403
    assert saved.status_code == 200
    assert saved.get_json()["updated_by"] == "member"


def test_outsiders_of_a_private_project_get_404(client, root, notes_url):
    root.project.is_public = False
    db.session.commit()
    outsider = auth(make_token(make_user("eve")))

    assert client.get(notes_url, headers=outsider).status_code == 404
    put = client.put(notes_url, json={"markdown": "x", "version": 0}, headers=outsider)
    assert put.status_code == 404


def test_an_experiments_own_key_may_not_write_its_notes(client, root):
    experiment = root.experiments[0]
    for status in ("scheduled", "starting", "running"):
        statuses.set_experiment_status(experiment, status)
    key = issue_experiment_token(experiment)
    db.session.commit()
    url = f"{UP}/experiments/{experiment.id}/notes/"

    response = client.put(url, json={"markdown": "x", "version": 0}, headers=auth(key))

    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Note)) == 0


def test_the_notes_of_an_experiment_of_another_project_are_not_found(client, root):
    other = owner_with_group(grid_yml(1), "bob", "other")
    url = f"{UP}/experiments/{other.experiments[0].id}/notes/"

    assert client.get(url, headers=root.headers).status_code == 404


def test_deleting_a_group_deletes_its_notes_and_its_experiments_notes(client, root):
    client.put(
        f"{UP}/groups/{root.group.id}/notes/",
        json={"markdown": "g", "version": 0},
        headers=root.headers,
    )
    client.put(
        f"{UP}/experiments/{root.experiments[0].id}/notes/",
        json={"markdown": "e", "version": 0},
        headers=root.headers,
    )
    assert db.session.scalar(select(func.count()).select_from(Note)) == 2

    assert client.delete(f"{UP}/groups/{root.group.id}/", headers=root.headers).status_code == 204

    assert db.session.scalar(select(func.count()).select_from(Note)) == 0


def test_the_notes_html_is_the_sanitised_markdown(client, root, notes_url):
    text = "[docs](https://example.com) <script>alert(1)</script> [x](javascript:alert(1))"

    body = client.put(
        notes_url, json={"markdown": text, "version": 0}, headers=root.headers
    ).get_json()

    assert '<a href="https://example.com" rel="nofollow noopener">docs</a>' in body["html"]
    assert "<script" not in body["html"]
    assert 'href="javascript' not in body["html"]


@pytest.mark.parametrize("version", [0, 1])
def test_concurrent_saves_from_one_version_give_one_200_and_409s(live_server, version):
    """Against a real server, first saves (INSERT) and later ones (UPDATE ... WHERE version)."""
    owner = owner_with_group(grid_yml(1), "alice", "demo")
    url = f"{live_server.url}/api/v1/alice/demo/groups/{owner.group.id}/notes/"
    if version:
        requests.put(
            url, json={"markdown": "base", "version": 0}, headers=owner.headers, timeout=30
        )

    def save(index):
        body = {"markdown": f"writer {index}", "version": version}
        return requests.put(url, json=body, headers=owner.headers, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(save, range(8)))

    codes = sorted(response.status_code for response in responses)
    assert codes == [200] + [409] * 7, codes
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert winner["version"] == version + 1
    for loser in (r.json() for r in responses if r.status_code == 409):
        assert (loser["markdown"], loser["version"]) == (winner["markdown"], version + 1)
    assert requests.get(url, headers=owner.headers, timeout=30).json() == winner
