"""Client bootstrap routes and projects (CONTRACT.md sections 2, 7 and 8)."""

import re

import pytest
from sqlalchemy import func, select

from dashboard.errors import ValidationError
from dashboard.extensions import db
from dashboard.models import ApiToken, Project, User
from dashboard.services.user import users
from tests.factories import add_member, auth, make_project, make_token, make_user

PROJECT_KEYS = {
    "id",
    "uuid",
    "name",
    "user",
    "unique_name",
    "description",
    "is_public",
    "tags",
    "created_at",
    "updated_at",
}
BAD_CREDENTIALS = {"detail": "Unable to log in with provided credentials."}
RESERVED = [
    "api",
    "app",
    "bookmarks",
    "healthz",
    "log_handler",
    "login",
    "logout",
    "projects",
    "settings",
    "static",
    "tensorboard",
    "users",
    "versions",
]


def _token_count(user):
    return db.session.execute(
        select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)
    ).scalar_one()


# ---- users/token -----------------------------------------------------------------------


def test_login_with_a_form_answers_a_new_token(client):
    make_user("alice", "secret")

    response = client.post("/api/v1/users/token", data={"username": "alice", "password": "secret"})

    assert response.status_code == 200
    assert set(response.json) == {"token"}
    assert re.fullmatch(r"[0-9a-f]{40}", response.json["token"])


def test_login_with_json_answers_a_new_token(client):
    make_user("alice", "secret")

    response = client.post("/api/v1/users/token", json={"username": "alice", "password": "secret"})

    assert response.status_code == 200
    assert set(response.json) == {"token"}


def test_login_token_authenticates_api_calls(client):
    make_user("alice", "secret")
    key = client.post("/api/v1/users/token", data={"username": "alice", "password": "secret"}).json[
        "token"
    ]

    response = client.get("/api/v1/users", headers=auth(key))

    assert response.status_code == 200
    assert response.json["username"] == "alice"


def test_each_login_creates_a_new_token_named_cli(client):
    alice = make_user("alice", "secret")
    credentials = {"username": "alice", "password": "secret"}

    first = client.post("/api/v1/users/token", data=credentials).json["token"]
    second = client.post("/api/v1/users/token", data=credentials).json["token"]

    assert first != second
    names = db.session.scalars(select(ApiToken.name).where(ApiToken.user_id == alice.id)).all()
    assert names == ["cli", "cli"]


def test_login_with_a_wrong_password_is_400_with_the_exact_detail(client):
    alice = make_user("alice", "secret")

    response = client.post("/api/v1/users/token", data={"username": "alice", "password": "nope"})

    assert response.status_code == 400
    assert response.json == BAD_CREDENTIALS
    assert _token_count(alice) == 0


def test_login_with_an_unknown_user_is_400_with_the_same_detail(client):
    response = client.post("/api/v1/users/token", json={"username": "ghost", "password": "x"})

    assert response.status_code == 400
    assert response.json == BAD_CREDENTIALS


def test_login_without_a_password_is_400_naming_the_field(client):
    response = client.post("/api/v1/users/token", data={"username": "alice"})

    assert response.status_code == 400
    assert response.json == {"password": ["This field is required."]}


def test_repeated_failed_logins_are_rate_limited_with_429(app, client):
    # The limit is read from the config on every request, so a test may lower it.
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    make_user("alice", "secret")
    wrong = {"username": "alice", "password": "nope"}

    codes = [client.post("/api/v1/users/token", data=wrong).status_code for _ in range(4)]

    assert codes == [400, 400, 400, 429]
    throttled = client.post("/api/v1/users/token", data=wrong)
    assert throttled.status_code == 429
    assert set(throttled.json) == {"detail"}
    assert "3 per 1 minute" in throttled.json["detail"]


def test_rate_limited_login_refuses_even_the_right_password(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    alice = make_user("alice", "secret")
    for _ in range(2):
        client.post("/api/v1/users/token", data={"username": "alice", "password": "nope"})

    response = client.post("/api/v1/users/token", data={"username": "alice", "password": "secret"})

    assert response.status_code == 429
    assert _token_count(alice) == 0


def test_successful_logins_do_not_count_towards_the_rate_limit(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    make_user("alice", "secret")
    right = {"username": "alice", "password": "secret"}

    codes = [client.post("/api/v1/users/token", data=right).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 200]


# ---- users, versions, log_handler ------------------------------------------------------


def test_get_users_answers_the_authenticated_user(client):
    alice = make_user("alice")

    response = client.get("/api/v1/users", headers=auth(make_token(alice)))

    assert response.status_code == 200
    assert response.json == {"username": "alice", "email": None, "is_superuser": False}


def test_get_users_reports_staff_as_superuser(client):
    staff = make_user("boss", staff=True)

    response = client.get("/api/v1/users", headers=auth(make_token(staff)))

    assert response.json["is_superuser"] is True


def test_get_users_without_credentials_is_401(client):
    response = client.get("/api/v1/users")

    assert response.status_code == 401
    assert response.json == {"detail": "Authentication credentials were not provided."}


def test_cli_versions_answer_without_authentication(client):
    response = client.get("/api/v1/versions/cli")

    assert response.status_code == 200
    assert response.json == {"latest_version": "0.6.1", "min_version": "0.6.0"}


def test_log_handler_answers_without_authentication(client):
    response = client.get("/api/v1/log_handler")

    assert response.status_code == 200
    assert response.json == {"dsn": None, "environment": "production", "tags": {}}


# ---- projects --------------------------------------------------------------------------


def test_get_project_answers_exactly_the_contract_fields(client):
    alice = make_user("alice")
    project = make_project(alice, "quick-start")

    response = client.get("/api/v1/alice/quick-start", headers=auth(make_token(alice)))

    assert response.status_code == 200
    body = response.json
    assert set(body) == PROJECT_KEYS
    assert body["id"] == project.id
    assert body["name"] == "quick-start"
    assert body["user"] == "alice"
    assert body["unique_name"] == "alice.quick-start"
    assert body["is_public"] is True
    assert body["description"] is None
    assert body["tags"] is None


def test_get_private_project_of_another_user_is_404(client):
    alice = make_user("alice")
    make_project(alice, "secret", public=False)
    bob = make_user("bob")

    response = client.get("/api/v1/alice/secret", headers=auth(make_token(bob)))

    assert response.status_code == 404
    assert response.json == {"detail": "Not found."}


def test_get_private_project_as_a_member_is_200(client):
    alice = make_user("alice")
    project = make_project(alice, "secret", public=False)
    bob = make_user("bob")
    add_member(project, bob, "viewer")

    response = client.get("/api/v1/alice/secret", headers=auth(make_token(bob)))

    assert response.status_code == 200


def test_get_unknown_project_is_404(client):
    alice = make_user("alice")

    response = client.get("/api/v1/alice/nothing", headers=auth(make_token(alice)))

    assert response.status_code == 404


def _project_names(client, username, viewer):
    response = client.get(f"/api/v1/{username}", headers=auth(make_token(viewer)))
    assert response.status_code == 200
    return sorted(row["name"] for row in response.json["results"])


def test_user_projects_list_is_paginated_with_project_fields(client):
    alice = make_user("alice")
    make_project(alice, "one")

    response = client.get("/api/v1/alice", headers=auth(make_token(alice)))

    assert response.status_code == 200
    assert set(response.json) == {"count", "next", "previous", "results"}
    assert [set(row) for row in response.json["results"]] == [PROJECT_KEYS]


def test_user_projects_list_shows_the_owner_every_project(client):
    alice = make_user("alice")
    make_project(alice, "open")
    make_project(alice, "hidden", public=False)

    assert _project_names(client, "alice", alice) == ["hidden", "open"]


def test_user_projects_list_hides_private_projects_from_others(client):
    alice = make_user("alice")
    make_project(alice, "open")
    make_project(alice, "hidden", public=False)

    assert _project_names(client, "alice", make_user("bob")) == ["open"]


def test_user_projects_list_shows_private_projects_to_members(client):
    alice = make_user("alice")
    make_project(alice, "open")
    hidden = make_project(alice, "hidden", public=False)
    bob = make_user("bob")
    add_member(hidden, bob, "member")

    assert _project_names(client, "alice", bob) == ["hidden", "open"]


def test_user_projects_list_shows_private_projects_to_staff(client):
    alice = make_user("alice")
    make_project(alice, "open")
    make_project(alice, "hidden", public=False)

    assert _project_names(client, "alice", make_user("boss", staff=True)) == ["hidden", "open"]


def test_user_projects_list_holds_only_that_users_projects(client):
    alice = make_user("alice")
    bob = make_user("bob")
    make_project(alice, "mine")
    make_project(bob, "theirs")

    assert _project_names(client, "alice", bob) == ["mine"]


def test_create_project_answers_201_owned_by_the_caller(client):
    alice = make_user("alice")

    response = client.post(
        "/api/v1/projects",
        json={"name": "new-one", "description": "d", "is_public": False},
        headers=auth(make_token(alice)),
    )

    assert response.status_code == 201
    body = response.json
    assert set(body) == PROJECT_KEYS
    assert body["name"] == "new-one"
    assert (body["user"], body["unique_name"]) == ("alice", "alice.new-one")
    assert (body["description"], body["is_public"]) == ("d", False)


def test_create_project_defaults_to_public(client):
    alice = make_user("alice")

    response = client.post("/api/v1/projects", json={"name": "p"}, headers=auth(make_token(alice)))

    assert response.status_code == 201
    assert response.json["is_public"] is True


def test_create_project_with_a_bad_name_is_400(client):
    alice = make_user("alice")

    response = client.post(
        "/api/v1/projects", json={"name": "not a slug!"}, headers=auth(make_token(alice))
    )

    assert response.status_code == 400
    assert list(response.json) == ["name"]
    assert "valid name" in response.json["name"][0]
    assert db.session.execute(select(func.count()).select_from(Project)).scalar_one() == 0


def test_create_project_with_a_name_ending_in_a_newline_is_400(client):
    alice = make_user("alice")

    response = client.post(
        "/api/v1/projects", json={"name": "demo\n"}, headers=auth(make_token(alice))
    )

    assert response.status_code == 400
    assert list(response.json) == ["name"]
    assert db.session.execute(select(func.count()).select_from(Project)).scalar_one() == 0


def test_create_project_without_a_name_is_400(client):
    alice = make_user("alice")

    response = client.post("/api/v1/projects", json={}, headers=auth(make_token(alice)))

    assert response.status_code == 400
    assert response.json == {"name": ["This field is required."]}


def test_create_project_with_a_duplicate_name_is_400(client):
    alice = make_user("alice")
    make_project(alice, "taken")

    response = client.post(
        "/api/v1/projects", json={"name": "taken"}, headers=auth(make_token(alice))
    )

    assert response.status_code == 400
    assert response.json == {"name": ["You already have a project named 'taken'."]}


def test_create_project_with_a_name_another_user_has_is_201(client):
    make_project(make_user("alice"), "shared")
    bob = make_user("bob")

    response = client.post(
        "/api/v1/projects", json={"name": "shared"}, headers=auth(make_token(bob))
    )

    assert response.status_code == 201
    assert response.json["unique_name"] == "bob.shared"


def test_create_project_anonymously_is_401(client):
    response = client.post("/api/v1/projects", json={"name": "p"})

    assert response.status_code == 401


# ---- reserved usernames ----------------------------------------------------------------


@pytest.mark.parametrize("username", RESERVED)
def test_create_user_refuses_a_reserved_username(app, username):
    with pytest.raises(ValidationError) as error:
        users.create_user(username, "pw")

    assert error.value.body() == {"username": [f"The username '{username}' is reserved."]}
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 0


def test_create_user_refuses_a_reserved_username_in_any_case(app):
    with pytest.raises(ValidationError):
        users.create_user("Projects", "pw")
