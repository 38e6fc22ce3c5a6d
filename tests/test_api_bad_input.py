"""Bad input gets a precise 4xx naming the problem, never a 500, and changes nothing."""

import json

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.services.user import users
from tests.factories import (
    RANDOM_YML,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    sign_in_cookie,
)

UP = "/api/v1/root/quick-start"


def _row_counts():
    """Rows per table: bad input must leave every one of them as it was."""
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def world(client):
    """An owner with a project and a group, a token, and the row counts before the request."""
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    group = make_group(project, content=grid_yml(3), name="kept", tags=["a"])
    headers = auth(make_token(owner))
    # Warm the token up: its first use stamps last_used_at, which is not what we measure.
    client.get("/api/v1/users", headers=headers)
    return {"owner": owner, "project": project, "group": group, "headers": headers}


def _group_state(client, world):
    body = client.get(f"{UP}/groups/{world['group'].id}", headers=world["headers"]).json
    return {key: body[key] for key in ("name", "description", "tags", "concurrency", "last_status")}


def _post_group(client, world, content):
    return client.post(f"{UP}/groups", json={"content": content}, headers=world["headers"])


# ---- the body itself -------------------------------------------------------------------


def test_malformed_json_is_400_and_changes_nothing(client, world):
    before = _row_counts()

    response = client.post(
        f"{UP}/groups",
        data='{"content": "version: 1',
        content_type="application/json",
        headers=world["headers"],
    )

    assert response.status_code == 400
    assert set(response.json) == {"detail"}
    assert response.json["detail"].startswith("Malformed JSON:")
    assert _row_counts() == before


def test_non_object_json_body_is_400_naming_its_type(client, world):
    before = _row_counts()

    response = client.post(f"{UP}/groups", json=[RANDOM_YML], headers=world["headers"])

    assert response.status_code == 400
    assert response.json == {"detail": "The body must be a JSON object, not list."}
    assert _row_counts() == before


def test_wrong_content_type_is_400_naming_it(client, world):
    before = _row_counts()

    response = client.post(
        f"{UP}/groups",
        data=json.dumps({"content": RANDOM_YML}),
        content_type="text/plain",
        headers=world["headers"],
    )

    assert response.status_code == 400
    assert response.json == {
        "detail": "Unsupported content type 'text/plain': send application/json."
    }
    assert _row_counts() == before


def test_patch_with_malformed_json_is_400_and_leaves_the_group(client, world):
    before = _group_state(client, world)

    response = client.patch(
        f"{UP}/groups/{world['group'].id}",
        data="{name: x}",
        content_type="application/json",
        headers=world["headers"],
    )

    assert response.status_code == 400
    assert response.json["detail"].startswith("Malformed JSON:")
    assert _group_state(client, world) == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"tags": "abc"}, "tags"),
        ({"tags": ["ok", 1]}, "tags.1"),
        ({"name": 5}, "name"),
        ({"description": ["x"]}, "description"),
        ({"concurrency": "5"}, "concurrency"),
        ({"concurrency": 1.5}, "concurrency"),
        ({"merge": "yes", "tags": ["b"]}, "merge"),
    ],
)
def test_patch_with_a_wrong_type_is_400_naming_the_field_and_leaves_the_group(
    client, world, body, field
):
    before = _group_state(client, world)

    response = client.patch(f"{UP}/groups/{world['group'].id}", json=body, headers=world["headers"])

    assert response.status_code == 400
    assert list(response.json) == [field]
    assert all(isinstance(message, str) and message for message in response.json[field])
    assert _group_state(client, world) == before


def test_patch_with_a_name_that_is_not_a_slug_is_400(client, world):
    before = _group_state(client, world)

    response = client.patch(
        f"{UP}/groups/{world['group'].id}", json={"name": "two words"}, headers=world["headers"]
    )

    assert response.status_code == 400
    assert list(response.json) == ["name"]
    assert _group_state(client, world) == before


def test_create_with_content_of_a_wrong_type_is_400(client, world):
    before = _row_counts()

    response = client.post(f"{UP}/groups", json={"content": 5}, headers=world["headers"])

    assert response.status_code == 400
    assert list(response.json) == ["content"]
    assert _row_counts() == before


def test_stop_with_a_wrong_type_for_pending_is_400_and_stops_nothing(client, world):
    before = _group_state(client, world)

    response = client.post(
        f"{UP}/groups/{world['group'].id}/stop", json={"pending": "yes"}, headers=world["headers"]
    )

    assert response.status_code == 400
    assert list(response.json) == ["pending"]
    assert _group_state(client, world) == before


def test_body_over_one_mebibyte_is_413(client, world):
    before = _row_counts()

    response = client.patch(
        f"{UP}/groups/{world['group'].id}",
        json={"description": "x" * (1024 * 1024 + 1)},
        headers=world["headers"],
    )

    assert response.status_code == 413
    assert response.json == {"detail": "Request body too large."}
    assert _row_counts() == before


def test_five_mebibyte_polyaxonfile_is_413_as_an_oversized_body(client, world):
    before = _row_counts()
    content = RANDOM_YML + "# padding\n" * (5 * 1024 * 1024 // 10)

    response = _post_group(client, world, content)

    assert response.status_code == 413
    assert response.json == {"detail": "Request body too large."}
    assert _row_counts() == before


def test_oversized_login_form_is_413(client, world):
    response = client.post(
        "/api/v1/users/token", data={"username": "root", "password": "x" * (2 * 1024 * 1024)}
    )

    assert response.status_code == 413


# ---- polyaxonfiles ---------------------------------------------------------------------


YAML_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _spec(matrix, algorithm="", cmd="echo {{ lr }}"):
    return (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 1\n"
        + (f"  {algorithm}\n" if algorithm else "")
        + "  matrix:\n"
        + "".join(f"    {line}\n" for line in matrix)
        + f"run:\n  cmd: '{cmd}'\n"
    )


@pytest.mark.parametrize(
    "content,message",
    [
        pytest.param(
            YAML_BOMB, "content: the document expands to more than 20000 YAML nodes", id="yaml-bomb"
        ),
        pytest.param(
            _spec(["lr: {foo: [1, 2]}"]),
            "hptuning.matrix.lr: unknown option 'foo' (expected one of values, range, "
            "linspace, logspace, geomspace, pvalues, uniform, quniform, loguniform, "
            "qloguniform, normal, qnormal, lognormal, qlognormal)",
            id="unknown-matrix-option",
        ),
        pytest.param(
            _spec(["lr: {linspace: 0.1:0.001:5}"]),
            "hptuning.matrix.lr.linspace: stop (0.001) must be greater than start (0.1)",
            id="reversed-linspace",
        ),
        pytest.param(
            _spec(["lr: {values: [1, 2]}"], "random_search: {}"),
            "hptuning.random_search.n_experiments: is required",
            id="random-without-n_experiments",
        ),
        pytest.param(
            _spec(["a: {range: 0:1000:1}", "b: {range: 0:1000:1}"], cmd="echo {{ a }} {{ b }}"),
            "hptuning: the grid has 1000000 combinations, at most 10000 are allowed; "
            "set grid_search.n_experiments",
            id="million-point-grid",
        ),
        pytest.param(
            _spec(
                ["lr: {values: [1, 2]}"], cmd="echo {{ lr.__class__.__mro__[1].__subclasses__() }}"
            ),
            "run.cmd: the template sandbox refused an expression: access to attribute "
            "'__class__' of 'int' object is unsafe.",
            id="jinja-reaching-python-internals",
        ),
        pytest.param(
            _spec(["lr: {values: [1, 2]}"], cmd="echo {{ lerning_rate }}"),
            None,
            id="jinja-unknown-variable",
        ),
        pytest.param("version: 1\nkind: group\n  bad: [indent\n", None, id="invalid-yaml"),
        pytest.param("- just\n- a list\n", None, id="not-a-mapping"),
    ],
)
def test_invalid_polyaxonfile_is_400_naming_the_path_and_creates_nothing(
    client, world, content, message
):
    before = _row_counts()

    response = _post_group(client, world, content)

    assert response.status_code == 400
    assert list(response.json) == ["content"]
    errors = response.json["content"]
    assert errors and all(isinstance(error, str) for error in errors)
    if message is not None:
        assert errors == [message]
    else:
        # Every message starts with the path it is about.
        assert all(error.split(":")[0] in ("content", "run.cmd", "hptuning") for error in errors)
    assert _row_counts() == before


def test_unknown_template_variable_is_named(client, world):
    content = _spec(["lr: {values: [1]}"], cmd="echo {{ lerning_rate }}")

    response = _post_group(client, world, content)

    assert response.status_code == 400
    assert any("lerning_rate" in error for error in response.json["content"])


def test_million_point_grid_with_n_experiments_is_accepted_without_building_it(client, world):
    content = _spec(
        ["a: {range: 0:1000:1}", "b: {range: 0:1000:1}"],
        "grid_search: {n_experiments: 10}",
        cmd="echo {{ a }} {{ b }}",
    )

    response = _post_group(client, world, content)

    assert response.status_code == 201
    assert response.json["num_experiments"] == 10


# ---- who and what ----------------------------------------------------------------------


def test_unknown_group_id_is_404_and_changes_nothing(client, world):
    before = _row_counts()

    responses = [
        client.get(f"{UP}/groups/999999", headers=world["headers"]),
        client.patch(f"{UP}/groups/999999", json={"name": "x"}, headers=world["headers"]),
        client.delete(f"{UP}/groups/999999", headers=world["headers"]),
        client.post(f"{UP}/groups/999999/stop", headers=world["headers"]),
        client.post(f"{UP}/groups/999999/bookmark", headers=world["headers"]),
        client.post(
            f"{UP}/groups/999999/statuses", json={"status": "running"}, headers=world["headers"]
        ),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert all(r.json == {"detail": "Not found."} for r in responses)
    assert _row_counts() == before


def test_another_users_private_project_is_404_for_reads_and_writes(client, world):
    alice = make_user("alice")
    hidden = make_project(alice, "hidden", public=False)
    group = make_group(hidden, content=grid_yml(2))
    before = _row_counts()
    base = f"/api/v1/alice/hidden/groups/{group.id}"

    responses = [
        client.get("/api/v1/alice/hidden", headers=world["headers"]),
        client.get(base, headers=world["headers"]),
        client.post(f"{base}/stop", headers=world["headers"]),
        client.delete(base, headers=world["headers"]),
        client.post(
            "/api/v1/alice/hidden/groups", json={"content": RANDOM_YML}, headers=world["headers"]
        ),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert all(r.json == {"detail": "Not found."} for r in responses)
    assert _row_counts() == before


def test_revoked_token_is_401_and_changes_nothing(client, world):
    token, key = users.create_token(world["owner"], "revoked")
    users.revoke_token(token.id, actor=world["owner"])
    before = _row_counts()

    response = client.post(f"{UP}/groups", json={"content": RANDOM_YML}, headers=auth(key))

    assert response.status_code == 401
    assert response.json == {"detail": "Invalid token."}
    assert _row_counts() == before


def test_cookie_post_without_csrf_token_is_403_and_changes_nothing(app, client, world):
    with app.test_request_context():
        generate_csrf()
        raw = session["csrf_token"]
    sign_in_cookie(client, world["owner"], csrf_token=raw)
    before = _row_counts()

    response = client.post(f"{UP}/groups", json={"content": RANDOM_YML})

    assert response.status_code == 403
    assert response.json["detail"].startswith("CSRF Failed")
    assert _row_counts() == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"username": 5, "password": "pw"}, "username"),
        ({"username": "root", "password": ["pw"]}, "password"),
        ({"username": "root"}, "password"),
    ],
)
def test_login_with_wrong_types_is_400_naming_the_field_and_creates_no_token(
    client, world, body, field
):
    before = _row_counts()

    response = client.post("/api/v1/users/token", json=body)

    assert response.status_code == 400
    assert list(response.json) == [field]
    assert _row_counts() == before


def test_login_with_a_wrong_content_type_is_400(client, world):
    response = client.post(
        "/api/v1/users/token", data="username=root&password=pw", content_type="text/plain"
    )

    assert response.status_code == 400
    assert "text/plain" in response.json["detail"]
