"""The JSON API's permission matrix: every route x every actor x public/private (CONTRACT.md 7).

ROUTES below restates CONTRACT.md section 7 on its own (it never reads dashboard/permissions.py):
one row per API route with the action it performs and the expected outcome for each actor.
"""

import io
import tarfile
from dataclasses import dataclass

import pytest

from tests import permissions_matrix as matrix
from tests.factories import auth, grid_yml, make_token
from tests.permissions_matrix import ADMIN_UP, ANYONE, MEMBER_UP, SIGNED_IN, VIEWER_UP

API = "/api/v1"
UP = f"{API}/<username>/<project_name>"
GROUP = f"{UP}/groups/<int:group_id>"
EXPERIMENT = f"{UP}/experiments/<int:experiment_id>"
TENSORBOARD = f"{UP}/tensorboards/<int:tensorboard_id>"
WEBHOOK_URL = f"{UP}/webhooks/<int:webhook_id>/"
NOTES = {"markdown": "*x*", "version": 0}
WEBHOOK = {"url": "https://hooks.example.com/x", "events": ["group.failed"]}

DETAILS = {
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
}

# Only the experiment's own key (its Celery worker) may call these; every user is refused.
RUNNER_ONLY = {
    matrix.PUBLIC: (401, 403, 403, 403, 403, 403, 403),
    matrix.PRIVATE: (401, 404, 403, 403, 403, 403, 403),
}


def _login_body(user):
    return {"username": user.username, "password": "pw"}


def _repo_upload(user):
    """What `polyaxon upload` sends: a multipart form with a .tar.gz in the field `repo`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"pass\n"))
    buffer.seek(0)
    return {"repo": (buffer, "repo.tar.gz", "text/plain"), "json": '{"sync": true}'}


@dataclass(frozen=True)
class Row(matrix.Route):
    """One API route, with the request body it sends."""

    body: object = None  # a dict, or a function of the acting (or, anonymously, some) user
    username: str = "owner"  # whose name fills <username> outside a project: owner or actor
    multipart: bool = False  # body is a form (a function of the user), not JSON


ROUTES = (
    # client bootstrap (section 8)
    Row("POST", f"{API}/users/token/", "log in", 200, ANYONE, body=_login_body),
    Row("GET", f"{API}/versions/cli/", "read CLI versions", 200, ANYONE),
    Row("GET", f"{API}/log_handler/", "read log handler", 200, ANYONE),
    Row("GET", f"{API}/openapi.json/", "read the API document", 200, ANYONE),
    Row("GET", f"{API}/users/", "read own user", 200, SIGNED_IN),
    Row("POST", f"{API}/projects/", "create a project", 201, SIGNED_IN, body={"name": "fresh"}),
    Row("GET", f"{API}/<username>/", "list visible projects", 200, SIGNED_IN),
    Row(
        "GET",
        f"{API}/bookmarks/<username>/groups/",
        "list own bookmarks",
        200,
        SIGNED_IN,
        username="actor",
    ),
    # the project and its groups (section 2)
    Row("GET", f"{UP}/", "read", 200, VIEWER_UP),
    Row("GET", f"{UP}/groups/", "read", 200, VIEWER_UP),
    Row("POST", f"{UP}/groups/", "create group", 201, MEMBER_UP, body={"content": grid_yml(1)}),
    Row("GET", f"{UP}/experiments/", "read", 200, VIEWER_UP, query="?group={id}"),
    Row("GET", f"{GROUP}/", "read", 200, VIEWER_UP),
    Row("PATCH", f"{GROUP}/", "edit", 200, MEMBER_UP, body={"description": "x"}),
    Row("PUT", f"{GROUP}/", "edit", 200, MEMBER_UP, body={"description": "x"}),
    Row("DELETE", f"{GROUP}/", "delete group", 204, ADMIN_UP),
    Row("GET", f"{GROUP}/notes/", "read", 200, VIEWER_UP),
    Row("PUT", f"{GROUP}/notes/", "write notes", 200, MEMBER_UP, body=NOTES),
    Row("GET", f"{GROUP}/experiments/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/statuses/", "read", 200, VIEWER_UP),
    Row(
        "POST",
        f"{GROUP}/statuses/",
        "post a group status",
        201,
        ADMIN_UP,
        body={"status": "running"},
    ),
    Row("POST", f"{GROUP}/stop/", "stop group", 200, MEMBER_UP),
    # control of a search (EXTENSIONS.md section 2)
    Row("POST", f"{GROUP}/pause/", "pause", 200, MEMBER_UP, prepare=matrix.running),
    Row("POST", f"{GROUP}/resume/", "resume", 200, MEMBER_UP, prepare=matrix.paused),
    Row(
        "POST", f"{GROUP}/retry/", "retry", 201, MEMBER_UP, prepare=matrix.with_a_failed_experiment
    ),
    Row(
        "POST",
        f"{GROUP}/extend/",
        "extend",
        201,
        MEMBER_UP,
        body={"n_experiments": 1},
        prepare=matrix.with_combinations_left,
    ),
    Row("POST", f"{GROUP}/clone/", "create group", 201, MEMBER_UP),
    Row("GET", f"{GROUP}/around-best/", "read", 200, VIEWER_UP, prepare=matrix.with_a_best),
    Row("POST", f"{GROUP}/archive/", "archive", 200, MEMBER_UP),
    Row("POST", f"{GROUP}/restore/", "restore", 200, MEMBER_UP),
    Row("POST", f"{GROUP}/bookmark/", "bookmark", 201, VIEWER_UP),
    Row("DELETE", f"{GROUP}/unbookmark/", "unbookmark", 204, VIEWER_UP, bookmarked_first=True),
    Row(
        "POST",
        f"{GROUP}/tensorboard/start/",
        "start TensorBoard",
        201,
        MEMBER_UP,
        body={"content": None, "is_managed": True},
    ),
    Row("POST", f"{GROUP}/tensorboard/stop/", "stop TensorBoard", 200, MEMBER_UP),
    # the project's TensorBoards: the list, and those over chosen experiments
    Row("GET", f"{UP}/tensorboards/", "read", 200, VIEWER_UP),
    Row(
        "POST",
        f"{UP}/tensorboards/",
        "start TensorBoard",
        201,
        MEMBER_UP,
        body={"experiments": ["{xp}"]},
    ),
    Row("GET", f"{TENSORBOARD}/", "read", 200, VIEWER_UP, prepare=matrix.with_a_selection),
    Row(
        "POST",
        f"{TENSORBOARD}/stop/",
        "stop TensorBoard",
        200,
        MEMBER_UP,
        prepare=matrix.with_a_selection,
    ),
    # one experiment (the group's first) and the project's code
    Row("GET", f"{EXPERIMENT}/", "read", 200, VIEWER_UP),
    Row("PATCH", f"{EXPERIMENT}/", "edit", 200, MEMBER_UP, body={"description": "x"}),
    Row("GET", f"{EXPERIMENT}/notes/", "read", 200, VIEWER_UP),
    Row("PUT", f"{EXPERIMENT}/notes/", "write notes", 200, MEMBER_UP, body=NOTES),
    Row("POST", f"{EXPERIMENT}/_heartbeat/", "report metrics", 200, MEMBER_UP),
    Row("POST", f"{EXPERIMENT}/stop/", "stop experiment", 200, MEMBER_UP),
    Row("POST", f"{EXPERIMENT}/restart/", "clone experiment", 201, MEMBER_UP),
    Row(
        "POST",
        f"{EXPERIMENT}/resume/",
        "clone experiment",
        201,
        MEMBER_UP,
        prepare=matrix.with_a_failed_experiment,
    ),
    Row("POST", f"{EXPERIMENT}/copy/", "clone experiment", 201, MEMBER_UP),
    Row("GET", f"{EXPERIMENT}/statuses/", "read", 200, VIEWER_UP),
    Row(
        "POST",
        f"{EXPERIMENT}/statuses/",
        "post an experiment status",
        201,
        ADMIN_UP,
        body={"status": "scheduled"},
    ),
    Row("GET", f"{EXPERIMENT}/metrics/", "read", 200, VIEWER_UP),
    Row(
        "POST",
        f"{EXPERIMENT}/metrics/",
        "report metrics",
        201,
        MEMBER_UP,
        body={"values": {"loss": 0.5}},
    ),
    Row("GET", f"{EXPERIMENT}/logs/", "read", 200, VIEWER_UP),
    Row(
        "POST",
        f"{EXPERIMENT}/_runner/start/",
        "report as its worker",
        200,
        RUNNER_ONLY,
        body={"worker": "w@h", "host": "h"},
    ),
    Row(
        "POST",
        f"{EXPERIMENT}/_runner/heartbeat/",
        "report as its worker",
        200,
        RUNNER_ONLY,
        body={"worker": "w@h", "host": "h"},
    ),
    Row(
        "PUT",
        f"{UP}/repo/upload/",
        "upload repo",
        201,
        MEMBER_UP,
        body=_repo_upload,
        multipart=True,
    ),
    Row(
        "POST",
        f"{UP}/repo/upload/",
        "upload repo",
        201,
        MEMBER_UP,
        body=_repo_upload,
        multipart=True,
    ),
    # group plots and experiment outputs
    Row("GET", f"{GROUP}/plots/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/metric/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/curves/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/parallel/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/scatter/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/contour/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/edf/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/hyperband/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/asha/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/bo/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/tpe/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/cmaes/", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots/importance/", "read", 200, VIEWER_UP),
    Row("GET", f"{EXPERIMENT}/outputs/", "read", 200, VIEWER_UP),
    # the group's objective (results)
    Row("GET", f"{GROUP}/objective/", "read", 200, VIEWER_UP),
    Row(
        "PUT",
        f"{GROUP}/objective/",
        "edit",
        200,
        MEMBER_UP,
        body={"metric": "loss", "optimization": "minimize"},
    ),
    # the group's timeline
    Row("GET", f"{GROUP}/timeline/", "read", 200, VIEWER_UP),
    # the project's webhooks (EXTENSIONS.md section 2)
    Row("GET", f"{UP}/webhooks/", "manage webhooks", 200, ADMIN_UP),
    Row("POST", f"{UP}/webhooks/", "manage webhooks", 201, ADMIN_UP, body=WEBHOOK),
    Row("DELETE", WEBHOOK_URL, "manage webhooks", 204, ADMIN_UP, prepare=matrix.with_a_webhook),
    Row(
        "GET",
        f"{WEBHOOK_URL}deliveries/",
        "manage webhooks",
        200,
        ADMIN_UP,
        prepare=matrix.with_a_webhook,
    ),
)


def _label(row):
    """A short readable route name: `groups/{id}/stop`, `U/P`, `versions/cli`."""
    path = row.pattern.removeprefix(f"{API}/").rstrip("/")
    path = path.replace("<username>/<project_name>", "U/P").replace("<int:group_id>", "{id}")
    path = path.replace("<int:experiment_id>", "{xp}").replace("<int:webhook_id>", "{webhook}")
    path = path.replace("<int:tensorboard_id>", "{tb}")
    path = path.replace("<username>", "{username}").removeprefix("U/P/")
    return f"{row.method} {path}{row.query}"


CASES = matrix.cases(ROUTES, _label)


def _url(row, user, project, group):
    url = row.pattern
    if project is not None:
        url = url.replace("<username>", project.owner.username)
        url = url.replace("<project_name>", project.name).replace("<int:group_id>", str(group.id))
        if "<int:experiment_id>" in url:
            url = url.replace("<int:experiment_id>", str(matrix.first_experiment(group)))
        if "<int:webhook_id>" in url:
            url = url.replace("<int:webhook_id>", str(matrix.webhook_of(project)))
        if "<int:tensorboard_id>" in url:
            url = url.replace("<int:tensorboard_id>", str(matrix.tensorboard_of(project)))
    else:
        name = user.username if user is not None and row.username == "actor" else "owner"
        url = url.replace("<username>", name)
    return url + row.query.replace("{id}", str(group.id) if group else "")


@pytest.mark.parametrize(("row", "actor", "scope"), CASES)
def test_route_answers_each_actor_as_section_7_says(client, row, actor, scope):
    case = matrix.case_world(row, actor, scope)
    user = case.user
    headers = auth(make_token(user)) if user is not None else {}
    body = row.body(user or case.users["outsider"]) if callable(row.body) else row.body
    body = matrix.with_selection_ids(body, case.group)

    payload = {"data": body} if row.multipart else {"json": body}
    response = client.open(
        _url(row, user, case.project, case.group), method=row.method, headers=headers, **payload
    )

    expected = row.expected(actor, scope)
    assert response.status_code == expected, response.get_data(as_text=True)
    if expected in DETAILS:
        assert response.json == {"detail": DETAILS[expected]}
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == "Token"


def _api_routes(app):
    """(method, rule) of every api blueprint rule, HEAD and OPTIONS aside."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_api_route_has_a_row_in_the_permission_table(app):
    rows = {(row.method, row.pattern) for row in ROUTES}

    missing = {
        (method, rule.rstrip("/") + "/")
        for method, rule in _api_routes(app)
        if (method, rule.rstrip("/") + "/") not in rows
    }

    assert not missing, f"routes without a row in ROUTES: {sorted(missing)}"


def test_every_row_of_the_permission_table_is_a_registered_api_route(app):
    routes = _api_routes(app)
    rows = [(row.method, row.pattern) for row in ROUTES]

    unknown = [key for key in rows if key not in routes]

    assert not unknown, f"rows for routes the api blueprint does not register: {unknown}"


def test_the_permission_table_has_one_row_per_route():
    keys = [(row.method, row.pattern) for row in ROUTES]

    assert len(keys) == len(set(keys))
