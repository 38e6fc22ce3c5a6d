"""Project settings: admins only; visibility and members take effect."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Membership, Project, Webhook
from tests.factories import add_member, make_project, make_user
from tests.support.web import form_csrf, sign_in

SETTINGS = "/alice/demo/settings"


def _page(response):
    return BeautifulSoup(response.data, "html.parser")


def _admin_session(client, public=True):
    """alice owns `demo` (bob is a member there); the client is signed in as alice."""
    alice, bob = make_user("alice"), make_user("bob")
    project = make_project(alice, "demo", public=public)
    add_member(project, bob, "member")
    sign_in(client, "alice")
    return project


def _roles(project_id):
    rows = db.session.execute(
        select(Membership.user_id, Membership.role).where(Membership.project_id == project_id)
    ).all()
    return {user_id: role for user_id, role in rows}


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": form_csrf(client, SETTINGS), **data})


def test_admin_sees_the_owner_and_members_with_their_roles(client):
    _admin_session(client)

    rows = _page(client.get(SETTINGS)).select("#members-table tbody tr")

    assert [row.td.text for row in rows] == ["alice", "bob"]
    assert rows[0].select_one(".role").text == "admin"
    assert rows[0].select("form") == []
    assert rows[1].select_one("select[name=role] option[selected]")["value"] == "member"


def test_settings_page_answers_with_a_trailing_slash_too(client):
    _admin_session(client)

    assert client.get(SETTINGS + "/").status_code == 200


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_non_admins_get_a_403_page(client, role):
    alice, carol = make_user("alice"), make_user("carol")
    project = make_project(alice, "demo")
    add_member(project, carol, role)
    sign_in(client, "carol")

    response = client.get(SETTINGS)

    assert response.status_code == 403
    assert "403" in _page(response).h1.text


def test_public_project_viewer_without_membership_gets_a_403(client):
    make_project(make_user("alice"), "demo")
    make_user("carol")
    sign_in(client, "carol")

    assert client.get(SETTINGS).status_code == 403


def test_settings_of_an_invisible_private_project_are_a_404(client):
    make_project(make_user("alice"), "demo", public=False)
    make_user("carol")
    sign_in(client, "carol")

    assert client.get(SETTINGS).status_code == 404


def test_non_admin_cannot_change_visibility(client):
    alice, carol = make_user("alice"), make_user("carol")
    project = make_project(alice, "demo")
    add_member(project, carol, "member")
    sign_in(client, "carol")

    response = client.post(
        SETTINGS + "/visibility",
        data={"csrf_token": form_csrf(client, "/"), "visibility": "private"},
    )

    assert response.status_code == 403
    assert db.session.get(Project, project.id).is_public is True


def test_making_the_project_private_hides_it_from_outsiders(client):
    project = _admin_session(client)
    make_user("carol")

    response = _post(client, SETTINGS + "/visibility", visibility="private")

    assert response.status_code == 302 and response.headers["Location"] == SETTINGS
    db.session.expire_all()
    assert db.session.get(Project, project.id).is_public is False
    client.get("/logout")
    sign_in(client, "carol")
    assert client.get("/alice/demo/").status_code == 404


def test_adding_a_member_by_username_gives_the_role(client):
    project = _admin_session(client)
    carol = make_user("carol")

    response = _post(client, SETTINGS + "/members", username="carol", role="viewer")

    assert response.status_code == 302
    assert _roles(project.id)[carol.id] == "viewer"


def test_adding_an_unknown_user_shows_the_error_inline(client):
    _admin_session(client)

    response = _post(client, SETTINGS + "/members", username="nobody", role="viewer")

    assert response.status_code == 400
    page = _page(response)
    assert page.select_one("#members .field-error").text == "No user named 'nobody'."
    assert page.select_one("#add-member input[name=username]")["value"] == "nobody"


def test_changing_a_role_takes_effect(client):
    project = _admin_session(client)
    bob_id = db.session.scalar(select(Membership.user_id))

    response = _post(client, SETTINGS + "/members/bob/role", role="admin")

    assert response.status_code == 302
    assert _roles(project.id)[bob_id] == "admin"


def test_the_owner_role_cannot_be_changed_nor_removed(client):
    project = _admin_session(client)

    changed = _post(client, SETTINGS + "/members/alice/role", role="viewer")
    removed = _post(client, SETTINGS + "/members/alice/remove")

    assert changed.status_code == removed.status_code == 400
    assert project.owner_id not in _roles(project.id)


def test_a_removed_member_gets_404_on_the_private_project(client):
    project = _admin_session(client, public=False)

    response = _post(client, SETTINGS + "/members/bob/remove")

    assert response.status_code == 302
    assert _roles(project.id) == {}
    client.get("/logout")
    sign_in(client, "bob")
    assert client.get("/alice/demo/").status_code == 404


@pytest.mark.parametrize(
    "path, data",
    [
        ("/visibility", {"visibility": "private"}),
        ("/members", {"username": "carol", "role": "admin"}),
        ("/members/bob/role", {"role": "admin"}),
        ("/members/bob/remove", {}),
        ("/webhooks", {"url": "https://hooks.example.com/x", "events": "group.failed"}),
    ],
)
def test_every_settings_form_requires_the_csrf_token(client, path, data):
    project = _admin_session(client)
    make_user("carol")
    before = _roles(project.id)

    response = client.post(SETTINGS + path, data=data)

    assert response.status_code == 400
    assert _roles(project.id) == before
    assert db.session.get(Project, project.id).is_public is True
    assert db.session.scalars(select(Webhook)).all() == []


def test_every_settings_form_carries_the_csrf_token(client):
    _admin_session(client)

    forms = _page(client.get(SETTINGS)).select("main form")

    assert len(forms) == 5  # visibility, bob's role, bob's removal, add member, add webhook
    assert all(f["method"] == "post" and f.select_one("input[name=csrf_token]") for f in forms)
