"""Transport rules of the JSON API: slashes, authentication, CSRF, errors, formats."""

import re

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf

from dashboard.extensions import db
from dashboard.services.group import statuses
from dashboard.services.user import users
from tests.factories import (
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    owner_with_group,
    sign_in_cookie,
)

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00")
HEX32 = re.compile(r"[0-9a-f]{32}")
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
UP = "/api/v1/root/quick-start"

# (method, path, JSON body, success code); {g} is a group id, {n} a per-call suffix.
ROUTES = [
    ("GET", "/groups/{g}", None, 200),
    ("PATCH", "/groups/{g}", {"description": "x"}, 200),
    ("PUT", "/groups/{g}", {"description": "x"}, 200),
    ("DELETE", "/groups/{g}", None, 204),
    ("POST", "/groups/{g}/stop", None, 200),
    ("POST", "/groups/{g}/tensorboard/start", None, 201),
    ("POST", "/groups/{g}/tensorboard/stop", None, 200),
    ("GET", "/groups/{g}/statuses", None, 200),
    ("POST", "/groups/{g}/statuses", {"status": "running"}, 201),
    ("POST", "/groups/{g}/bookmark", None, 201),
    ("DELETE", "/groups/{g}/unbookmark", None, 204),
    ("POST", "/groups/{g}/archive", None, 200),
    ("POST", "/groups/{g}/restore", None, 200),
    ("GET", "/groups/{g}/experiments", None, 200),
    ("GET", "/groups", None, 200),
    ("POST", "/groups", {"content": grid_yml(1)}, 201),
    ("GET", "", None, 200),
    ("GET", "/experiments?group={g}", None, 200),
]
GLOBAL_ROUTES = [
    ("GET", "/api/v1/bookmarks/root/groups", None, 200),
    ("POST", "/api/v1/users/token", {"username": "root", "password": "pw"}, 200),
    ("GET", "/api/v1/users", None, 200),
    ("GET", "/api/v1/root", None, 200),
    ("POST", "/api/v1/projects", {"name": "new-{n}"}, 201),
    ("GET", "/api/v1/versions/cli", None, 200),
    ("GET", "/api/v1/log_handler", None, 200),
]


def _slash_variants(path):
    """The path without and with a trailing slash (the query string kept after it)."""
    base, question, query = path.partition("?")
    base = base.rstrip("/")
    return [f"{base}{question}{query}", f"{base}/{question}{query}"]


def _call(client, method, path, body, headers):
    return client.open(path, method=method, json=body, headers=headers)


# ---- trailing slashes ------------------------------------------------------------------


def test_every_api_rule_is_registered_with_and_without_its_trailing_slash(app):
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            rules.setdefault(rule.endpoint, set()).add(rule.rule)
    for endpoint, paths in rules.items():
        for path in paths:
            assert {path.rstrip("/"), path.rstrip("/") + "/"} <= paths, endpoint


@pytest.mark.parametrize(
    "method,path,body,code", ROUTES, ids=[f"{m} U/P{p}" for m, p, *_ in ROUTES]
)
def test_project_route_answers_the_same_with_and_without_trailing_slash(
    client, method, path, body, code
):
    root = owner_with_group(grid_yml(2))
    twin = make_group(root.project, content=grid_yml(2))
    answers = []
    for target, variant in zip((root.group, twin), _slash_variants(UP + path), strict=True):
        if path.endswith("unbookmark"):
            client.post(f"{UP}/groups/{target.id}/bookmark", headers=root.headers)
        if path.endswith("restore"):
            client.post(f"{UP}/groups/{target.id}/archive", headers=root.headers)
        response = _call(client, method, variant.format(g=target.id), body, root.headers)
        answers.append(response.status_code)

    assert answers == [code, code]


@pytest.mark.parametrize(
    "method,path,body,code", GLOBAL_ROUTES, ids=[f"{m} {p}" for m, p, *_ in GLOBAL_ROUTES]
)
def test_global_route_answers_the_same_with_and_without_trailing_slash(
    client, method, path, body, code
):
    root = owner_with_group(grid_yml(2))
    answers = []
    for n, variant in enumerate(_slash_variants(path)):
        filled = {k: v.format(n=n) for k, v in body.items()} if body else None
        answers.append(_call(client, method, variant, filled, root.headers).status_code)

    assert answers == [code, code]


def test_group_detail_without_slash_is_the_same_body_as_with_slash(client):
    root = owner_with_group(grid_yml(2))

    without = client.get(f"{UP}/groups/{root.group.id}", headers=root.headers)
    with_slash = client.get(f"{UP}/groups/{root.group.id}/", headers=root.headers)

    assert without.json == with_slash.json


# ---- authentication --------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/v1/root/quick-start/groups/1"),
        ("POST", "/api/v1/root/quick-start/groups/1/stop"),
        ("GET", "/api/v1/root/quick-start/groups"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/bookmarks/root/groups"),
        ("GET", "/api/v1/nobody/nothing"),
    ],
)
def test_anonymous_request_is_401_with_the_exact_detail_and_www_authenticate(client, method, path):
    owner_with_group(grid_yml(2))

    response = client.open(path, method=method)

    assert response.status_code == 401
    assert response.json == NO_CREDENTIALS
    assert response.headers["WWW-Authenticate"] == "Token"


def test_unknown_token_is_401_invalid_token(client):
    root = owner_with_group(grid_yml(2))

    response = client.get(f"{UP}/groups/{root.group.id}", headers=auth("0" * 40))

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN
    assert response.headers["WWW-Authenticate"] == "Token"


def test_revoked_token_is_401_invalid_token(client):
    root = owner_with_group(grid_yml(2))
    token, key = users.create_token(root.user, "soon revoked")
    users.revoke_token(token.id, actor=root.user)

    response = client.get(f"{UP}/groups/{root.group.id}", headers=auth(key))

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN


@pytest.mark.parametrize("header", ["Basic cm9vdDpwdw==", "token", "Token   ", "tokenabc"])
def test_malformed_authorization_header_is_401_invalid_token(client, header):
    root = owner_with_group(grid_yml(2))

    response = client.get(f"{UP}/groups/{root.group.id}", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN


@pytest.mark.parametrize("keyword", ["token", "Token", "TOKEN", "Bearer", "bearer"])
def test_token_and_bearer_keywords_are_accepted_in_any_case(client, keyword):
    root = owner_with_group(grid_yml(2))
    key = make_token(root.user)

    response = client.get(
        f"{UP}/groups/{root.group.id}", headers={"Authorization": f"{keyword} {key}"}
    )

    assert response.status_code == 200


def _log_in_with_cookie(app, client, user):
    """Put a signed-in Flask-Login session and its CSRF secret in the client's cookie jar.

    Returns the CSRF token a page would embed for that session.
    """
    with app.test_request_context():
        token = generate_csrf()
        raw = session["csrf_token"]
    sign_in_cookie(client, user, csrf_token=raw)
    return token


def test_session_cookie_authenticates_a_get(app, client):
    root = owner_with_group(grid_yml(2))
    _log_in_with_cookie(app, client, root.user)

    response = client.get(f"{UP}/groups/{root.group.id}")

    assert response.status_code == 200
    assert response.json["id"] == root.group.id


def test_cookie_authenticated_post_without_csrf_token_is_403(app, client):
    root = owner_with_group(grid_yml(2))
    _log_in_with_cookie(app, client, root.user)

    response = client.post(f"{UP}/groups/{root.group.id}/stop")

    assert response.status_code == 403
    assert set(response.json) == {"detail"}
    assert response.json["detail"].startswith("CSRF Failed")
    assert db.session.get(type(root.group), root.group.id).status == "created"


def test_cookie_authenticated_post_with_a_wrong_csrf_token_is_403(app, client):
    root = owner_with_group(grid_yml(2))
    _log_in_with_cookie(app, client, root.user)

    response = client.post(f"{UP}/groups/{root.group.id}/stop", headers={"X-CSRFToken": "forged"})

    assert response.status_code == 403


def test_cookie_authenticated_post_with_csrf_token_is_allowed(app, client):
    root = owner_with_group(grid_yml(2))
    csrf_token = _log_in_with_cookie(app, client, root.user)

    response = client.post(f"{UP}/groups/{root.group.id}/stop", headers={"X-CSRFToken": csrf_token})

    assert response.status_code == 200
    assert db.session.get(type(root.group), root.group.id).status == "stopped"


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_cookie_authenticated_patch_and_delete_need_the_csrf_token(app, client, method):
    root = owner_with_group(grid_yml(2))
    _log_in_with_cookie(app, client, root.user)

    response = client.open(f"{UP}/groups/{root.group.id}", method=method, json={"name": "x"})

    assert response.status_code == 403


def test_token_authenticated_post_needs_no_csrf_token(client):
    root = owner_with_group(grid_yml(2))

    response = client.post(f"{UP}/groups/{root.group.id}/stop", headers=root.headers)

    assert response.status_code == 200


# ---- error bodies ----------------------------------------------------------------------


def test_unknown_api_path_is_a_json_404(client):
    root = owner_with_group(grid_yml(2))

    response = client.get("/api/v1/root/quick-start/groups/1/nothing/here", headers=root.headers)

    assert response.status_code == 404
    assert response.is_json
    assert response.json == {"detail": "Not found."}


def test_non_integer_group_id_is_a_json_404(client):
    root = owner_with_group(grid_yml(2))

    response = client.get(f"{UP}/groups/abc", headers=root.headers)

    assert response.status_code == 404
    assert response.json == {"detail": "Not found."}


def test_wrong_method_is_a_json_405_with_the_exact_message(client):
    root = owner_with_group(grid_yml(2))

    response = client.get(f"{UP}/groups/{root.group.id}/stop", headers=root.headers)

    assert response.status_code == 405
    assert response.is_json
    assert response.json == {"detail": 'Method "GET" not allowed.'}
    assert "POST" in response.headers["Allow"]


def test_wrong_method_names_the_method_used(client):
    response = client.delete("/api/v1/versions/cli")

    assert response.status_code == 405
    assert response.json == {"detail": 'Method "DELETE" not allowed.'}


# ---- formats ---------------------------------------------------------------------------


def test_group_datetimes_are_iso_with_microseconds_and_utc_offset(client):
    root = owner_with_group(grid_yml(2))
    statuses.set_group_status(root.group, "running")
    statuses.set_group_status(root.group, "succeeded")
    db.session.commit()

    body = client.get(f"{UP}/groups/{root.group.id}", headers=root.headers).json

    for key in ("created_at", "updated_at", "started_at", "finished_at"):
        assert ISO.fullmatch(body[key]), (key, body[key])


def test_status_project_and_experiment_datetimes_are_iso(client):
    root = owner_with_group(grid_yml(2))

    status_row = client.get(f"{UP}/groups/{root.group.id}/statuses", headers=root.headers).json[
        "results"
    ][0]
    project_body = client.get(UP, headers=root.headers).json
    experiments = client.get(f"{UP}/experiments?group={root.group.id}", headers=root.headers).json
    experiment = experiments["results"][0]

    assert ISO.fullmatch(status_row["created_at"])
    assert ISO.fullmatch(project_body["created_at"]) and ISO.fullmatch(project_body["updated_at"])
    assert ISO.fullmatch(experiment["created_at"]) and ISO.fullmatch(experiment["updated_at"])


def test_uuids_are_32_lowercase_hex_characters(client):
    root = owner_with_group(grid_yml(2))

    group_body = client.get(f"{UP}/groups/{root.group.id}", headers=root.headers).json
    status_row = client.get(f"{UP}/groups/{root.group.id}/statuses", headers=root.headers).json[
        "results"
    ][0]
    project_body = client.get(UP, headers=root.headers).json
    experiments = client.get(f"{UP}/experiments?group={root.group.id}", headers=root.headers).json
    experiment = experiments["results"][0]

    for value in (group_body["uuid"], status_row["uuid"], project_body["uuid"], experiment["uuid"]):
        assert HEX32.fullmatch(value), value


def test_ids_are_global_integers_not_per_project(client):
    root = owner_with_group(grid_yml(2))
    other = make_group(make_project(root.user, "other"), content=grid_yml(1))

    body = client.get(f"/api/v1/root/other/groups/{other.id}", headers=root.headers).json

    assert isinstance(body["id"], int)
    assert body["id"] != root.group.id
    assert body["unique_name"] == f"root.other.{other.id}"
