"""The HTML UI's permission matrix: every UI route x every actor x public/private (CONTRACT.md 7).

It shares the actors, the world and the outcome tables with tests/test_permissions.py (the
API's matrix) through tests/permissions_matrix.py; here 401 reads "sent to the login page".
Every UI rule of the url_map needs a row. Requests are plain form posts and page loads (what the
pages do without JavaScript), each with the session's CSRF token.
"""

from dataclasses import dataclass

# pytest loads tests/conftest.py as the top-level module `conftest` (tests/ has no __init__.py):
# importing it by that name shares its database settings instead of making new ones.
import conftest
import pytest
from bs4 import BeautifulSoup
from flask import request_started
from sqlalchemy import select

from dashboard import create_app
from dashboard.extensions import db, limiter
from dashboard.models import ApiToken
from dashboard.services.user import users as user_service
from tests import permissions_matrix as matrix
from tests.factories import grid_yml
from tests.permissions_matrix import ADMIN_UP, ANYONE, MEMBER_UP, SIGNED_IN, VIEWER_UP
from tests.support.web import form_csrf, sign_in

UP = "/<owner>/<project>"
GROUP = f"{UP}/groups/<int:group_id>"
EXPERIMENT = f"{GROUP}/experiments/<int:experiment_id>"
PROXY = "/tensorboard/<owner>/<project>/groups/<int:group_id>"
NOTES = {"markdown": "*x*", "version": "0"}
SELECTION_PROXY = "/tensorboard/<owner>/<project>/selections/<int:tensorboard_id>"
LOGIN = 401  # in the shared tables: the UI answers with a redirect to the login page
# Signed-in users are sent on from the login form; anonymous visitors see it.
LOGIN_PAGE = {matrix.NO_PROJECT: (matrix.OK, 302, 302, 302, 302, 302, 302)}


@dataclass(frozen=True)
class Row(matrix.Route):
    """One UI route (its url_map rule without the trailing slash), with the form it posts."""

    data: object = None  # a dict, or a function of the acting (or, anonymously, some) user
    ok_text: str = ""  # text the successful answer must contain
    htmx: bool = False  # sent as htmx sends it (a fragment route that redirects other callers)


@pytest.fixture(scope="module")
def _shared_app(_schema):
    """One app for the whole matrix: building the url_map is most of a fresh app's cost."""
    app = create_app(conftest._Config)
    request_started.connect(conftest._forget_user, app)
    return app


@pytest.fixture
def app(_shared_app, tmp_path):
    """The shared app over an emptied database, as conftest's `app` gives a fresh one."""
    _shared_app.config["OUTPUTS_ROOT"] = str(tmp_path / "outputs")
    limiter.reset()
    with _shared_app.app_context():
        yield _shared_app
        conftest._stop_tensorboards()
        conftest._empty_tables()
        db.session.remove()
        db.engine.dispose()


def _login_form(user):
    return {"username": user.username, "password": "pw"}


ROUTES = (
    # signing in and the user's own settings
    Row("GET", "/login", "sign in", 200, LOGIN_PAGE),
    Row("POST", "/login", "sign in", 302, ANYONE, data=_login_form),
    Row("GET", "/logout", "sign out", 302, SIGNED_IN),
    Row("POST", "/logout", "sign out", 302, SIGNED_IN),
    Row("GET", "/", "read home", 200, SIGNED_IN),
    Row("GET", "/app", "read home", 302, SIGNED_IN),
    Row("GET", "/app/token", "read own tokens", 302, SIGNED_IN),
    Row("POST", "/projects", "create a project", 302, SIGNED_IN, data={"name": "fresh"}),
    Row("GET", "/settings/password", "change own password", 200, SIGNED_IN),
    Row(
        "POST",
        "/settings/password",
        "change own password",
        302,
        SIGNED_IN,
        data={
            "current_password": "pw",
            "new_password": "new-secret-pw",
            "confirm_password": "new-secret-pw",
        },
    ),
    Row("GET", "/settings/tokens", "read own tokens", 200, SIGNED_IN),
    Row("POST", "/settings/tokens", "create own token", 200, SIGNED_IN, data={"name": "laptop"}),
    Row("POST", "/settings/tokens/<int:token_id>/revoke", "revoke own token", 302, SIGNED_IN),
    Row("POST", "/settings/tokens/revoke-all", "revoke own token", 302, SIGNED_IN),
    Row("POST", "/settings/sign-out-everywhere", "sign out", 302, SIGNED_IN),
    # the project
    Row("GET", UP, "read", 200, VIEWER_UP),
    Row("GET", f"{UP}/compare", "read", 200, VIEWER_UP, query="?groups={id}"),
    Row("POST", f"{UP}/groups", "create group", 302, MEMBER_UP, data={"content": grid_yml(1)}),
    Row("GET", f"{UP}/settings", "manage members", 200, ADMIN_UP),
    Row(
        "POST",
        f"{UP}/settings/members",
        "manage members",
        302,
        ADMIN_UP,
        data={"username": "outsider", "role": "viewer"},
    ),
    Row(
        "POST",
        f"{UP}/settings/members/<username>/role",
        "manage members",
        302,
        ADMIN_UP,
        data={"role": "member"},
    ),
    Row("POST", f"{UP}/settings/members/<username>/remove", "manage members", 302, ADMIN_UP),
    Row(
        "POST",
        f"{UP}/settings/webhooks",
        "manage webhooks",
        302,
        ADMIN_UP,
        data={"url": "https://hooks.example.com/x", "events": "group.failed"},
    ),
    Row(
        "POST",
        f"{UP}/settings/webhooks/<int:webhook_id>/delete",
        "manage webhooks",
        302,
        ADMIN_UP,
        prepare=matrix.with_a_webhook,
    ),
    Row(
        "POST",
        f"{UP}/settings/visibility",
        "change project visibility",
        302,
        ADMIN_UP,
        data={"visibility": "public"},
    ),
    # a group: pages and fragments
    Row("GET", GROUP, "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/live", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/experiments", "read", 200, VIEWER_UP, htmx=True),
    Row(
        "GET",
        f"{GROUP}/experiments/count",
        "read",
        200,
        VIEWER_UP,
        htmx=True,
        query="?query=metric.loss:<1",
    ),
    Row("GET", f"{GROUP}/experiments.csv", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/experiments.json", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/plots", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/coverage", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/timeline", "read", 200, VIEWER_UP),
    Row("GET", f"{GROUP}/clone", "create group", 200, MEMBER_UP),
    Row("GET", f"{GROUP}/around-best", "create group", 200, MEMBER_UP, prepare=matrix.with_a_best),
    # a group: actions
    Row("POST", f"{GROUP}/bookmark", "bookmark", 302, VIEWER_UP),
    Row("POST", f"{GROUP}/unbookmark", "unbookmark", 302, VIEWER_UP, bookmarked_first=True),
    Row("POST", f"{GROUP}/star", "bookmark", 302, VIEWER_UP, data={"on": "1"}),
    Row(
        "POST",
        f"{GROUP}/columns",
        "choose own columns",
        302,
        VIEWER_UP,
        data={"columns": ["status"]},
    ),
    Row("POST", f"{GROUP}/edit", "edit", 302, MEMBER_UP, data={"description": "x"}),
    Row("POST", f"{GROUP}/notes", "write notes", 302, MEMBER_UP, data=NOTES),
    Row("POST", f"{GROUP}/concurrency", "edit", 302, MEMBER_UP, data={"concurrency": "3"}),
    Row(
        "POST",
        f"{GROUP}/objective",
        "edit",
        302,
        MEMBER_UP,
        data={"metric": "loss", "optimization": "minimize"},
    ),
    Row("POST", f"{GROUP}/archive", "archive", 302, MEMBER_UP),
    Row("POST", f"{GROUP}/restore", "restore", 302, MEMBER_UP),
    Row("POST", f"{GROUP}/stop", "stop group", 302, MEMBER_UP),
    Row("POST", f"{GROUP}/pause", "pause", 302, MEMBER_UP, prepare=matrix.running),
    Row("POST", f"{GROUP}/resume", "resume", 302, MEMBER_UP, prepare=matrix.paused),
    Row("POST", f"{GROUP}/retry", "retry", 302, MEMBER_UP, prepare=matrix.with_a_failed_experiment),
    Row(
        "POST",
        f"{GROUP}/extend",
        "extend",
        302,
        MEMBER_UP,
        data={"n_experiments": "1"},
        prepare=matrix.with_combinations_left,
    ),
    Row("POST", f"{GROUP}/tensorboard/start", "start TensorBoard", 302, MEMBER_UP),
    Row("POST", f"{GROUP}/tensorboard/stop", "stop TensorBoard", 302, MEMBER_UP),
    Row("POST", f"{GROUP}/delete", "delete group", 302, ADMIN_UP),
    # a TensorBoard over chosen experiments (the compare page, the group's compare form)
    Row(
        "POST",
        f"{UP}/tensorboards",
        "start TensorBoard",
        302,
        MEMBER_UP,
        data={"experiments": "{xp}"},
    ),
    Row(
        "GET", f"{UP}/tensorboards/new", "start TensorBoard", 200, MEMBER_UP, query="?experiments=1"
    ),
    # the project page's Stop of any of its TensorBoards (here a stopped selection: no-op)
    Row(
        "POST",
        f"{UP}/tensorboards/<int:tensorboard_id>/stop",
        "stop TensorBoard",
        302,
        MEMBER_UP,
        prepare=matrix.with_a_selection,
    ),
    # one experiment (the group's first)
    Row("GET", EXPERIMENT, "read", 200, VIEWER_UP),
    Row("GET", f"{EXPERIMENT}/log", "read", 200, VIEWER_UP),
    Row("POST", f"{EXPERIMENT}/stop", "stop experiment", 302, MEMBER_UP),
    Row("POST", f"{EXPERIMENT}/notes", "write notes", 302, MEMBER_UP, data=NOTES),
    Row("POST", f"{EXPERIMENT}/restart", "clone experiment", 302, MEMBER_UP),
    Row("POST", f"{EXPERIMENT}/copy", "clone experiment", 302, MEMBER_UP),
    Row(
        "POST",
        f"{EXPERIMENT}/resume",
        "clone experiment",
        302,
        MEMBER_UP,
        prepare=matrix.with_a_failed_experiment,
    ),
    # the TensorBoard proxy: readers get past access, then hear that none is running
    Row("GET", PROXY, "read TensorBoard", 404, VIEWER_UP, ok_text="not running"),
    Row("POST", PROXY, "read TensorBoard", 404, VIEWER_UP, ok_text="not running"),
    Row(
        "GET", f"{PROXY}/<path:subpath>", "read TensorBoard", 404, VIEWER_UP, ok_text="not running"
    ),
    Row(
        "POST", f"{PROXY}/<path:subpath>", "read TensorBoard", 404, VIEWER_UP, ok_text="not running"
    ),
)
# A selection's proxy: the same, over a stopped selection of the group's first experiment.
ROUTES += tuple(
    Row(
        method,
        pattern,
        "read TensorBoard",
        404,
        VIEWER_UP,
        ok_text="not running",
        prepare=matrix.with_a_selection,
    )
    for pattern in (SELECTION_PROXY, f"{SELECTION_PROXY}/<path:subpath>")
    for method in ("GET", "POST")
)


def _label(row):
    return f"{row.method} {row.pattern}{row.query}"


CASES = matrix.cases(ROUTES, _label)


def _url(row, user, project, group):
    url = row.pattern
    if project is not None:
        url = url.replace("<owner>", project.owner.username).replace("<project>", project.name)
        url = url.replace("<int:group_id>", str(group.id)).replace("<username>", "viewer")
        url = url.replace("<int:experiment_id>", str(matrix.first_experiment(group)))
        url = url.replace("<path:subpath>", "data/runs")
        if "<int:webhook_id>" in url:
            url = url.replace("<int:webhook_id>", str(matrix.webhook_of(project)))
        if "<int:tensorboard_id>" in url:
            url = url.replace("<int:tensorboard_id>", str(matrix.tensorboard_of(project)))
    if "<int:token_id>" in url:
        owner = user if user is not None else db.session.scalar(select(ApiToken.user_id))
        token, _ = user_service.create_token(owner, "to-revoke") if user else (None, None)
        url = url.replace("<int:token_id>", str(token.id if token else 1))
    return url + row.query.replace("{id}", str(group.id) if group else "")


def _signed_in(client, user):
    """Sign the user in (or stay anonymous); returns the session's CSRF token."""
    if user is None:
        return form_csrf(client, "/login")
    assert sign_in(client, user.username).status_code == 302
    return form_csrf(client, "/settings/tokens")


@pytest.mark.parametrize(("row", "actor", "scope"), CASES)
def test_ui_route_answers_each_actor_as_section_7_says(client, row, actor, scope):
    case = matrix.case_world(row, actor, scope)
    user = case.user
    csrf = _signed_in(client, user)
    data = row.data(user or case.users["outsider"]) if callable(row.data) else row.data
    data = matrix.with_selection_ids(data, case.group)

    headers = {"X-CSRFToken": csrf, **({"HX-Request": "true"} if row.htmx else {})}
    response = client.open(
        _url(row, user, case.project, case.group), method=row.method, data=data, headers=headers
    )

    outcome = row.outcome(actor, scope)
    expected = row.expected(actor, scope)
    text = BeautifulSoup(response.data, "html.parser").get_text()
    if expected == LOGIN:
        assert response.status_code == (401 if row.htmx else 302), text
        location = response.headers["HX-Redirect" if row.htmx else "Location"]
        assert location.startswith("/login?next=")
        return
    assert response.status_code == expected, text
    if outcome == matrix.OK and row.ok_text:
        assert row.ok_text in text
    if expected == 404 and outcome != matrix.OK:
        assert "not running" not in text  # a hidden project says nothing about its groups
    if expected == 403:
        assert "You do not have permission to perform this action." in text


def _ui_routes(app):
    """(method, rule without its trailing slash) of every ui blueprint rule."""
    return {
        (method, rule.rule.rstrip("/") or "/")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("ui.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_ui_route_has_a_row_in_the_permission_table(app):
    rows = {(row.method, row.pattern) for row in ROUTES}

    missing = _ui_routes(app) - rows

    assert not missing, f"UI routes without a row in ROUTES: {sorted(missing)}"


def test_every_row_of_the_ui_permission_table_is_a_registered_ui_route(app):
    unknown = [
        (row.method, row.pattern)
        for row in ROUTES
        if (row.method, row.pattern) not in _ui_routes(app)
    ]

    assert not unknown, f"rows for routes the ui blueprint does not register: {unknown}"


def test_the_ui_permission_table_has_one_row_per_route():
    keys = [(row.method, row.pattern) for row in ROUTES]

    assert len(keys) == len(set(keys))


def test_nobody_revokes_another_users_token(app, client):
    users, _, _ = matrix.world()
    token, _ = user_service.create_token(users["owner"], "owners")
    for actor in ("outsider", "admin", "member"):
        client.get("/logout")
        csrf = _signed_in(client, users[actor])
        response = client.post(f"/settings/tokens/{token.id}/revoke", headers={"X-CSRFToken": csrf})
        assert response.status_code == 404
    assert db.session.get(ApiToken, token.id).revoked_at is None
