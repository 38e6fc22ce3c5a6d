"""Server-side sessions: forged, replayed, signed-out and expired cookies sign nobody in;
a password change, `flask set-password` and "sign out everywhere" end sessions; "revoke all
API tokens" locks every token out."""

from datetime import timedelta

from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import func, select, update

from config import DevelopmentConfig
from dashboard import create_app
from dashboard.extensions import db
from dashboard.login import SESSION_KEY
from dashboard.models import ApiToken, LoginSession
from dashboard.models.types import utcnow
from dashboard.services.user import login_sessions
from tests.factories import auth, make_project, make_token, make_user
from tests.support.web import form_csrf, sign_in

OLD_CONSTANT = "dev-only-secret-key-change-me"
PASSWORD = "/settings/password"
TOKENS = "/settings/tokens"
EVERYWHERE = "/settings/sign-out-everywhere"
REVOKE_ALL = "/settings/tokens/revoke-all"


def _page(response):
    return BeautifulSoup(response.data, "html.parser")


def _signed_in(client):
    """Whether the client's cookie still opens a page (else it is sent to sign in)."""
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _cookie(client):
    return client.get_cookie("session").value


def _forged(secret_key, payload):
    """A session cookie with this payload, signed as Flask signs them, with secret_key."""
    forger = Flask("forger")
    forger.secret_key = secret_key
    return forger.session_interface.get_signing_serializer(forger).dumps(payload)


def _sessions(user):
    return db.session.scalar(
        select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)
    )


def test_a_cookie_signed_with_the_old_constant_key_is_refused_by_the_default_config(app):
    root = make_user("root", staff=True)
    # Even with a live session key inside: only the signature is wrong.
    payload = {
        "_user_id": str(root.id),
        "_fresh": True,
        SESSION_KEY: login_sessions.start_session(root),
    }

    class DefaultConfig(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    default = create_app(DefaultConfig)
    try:
        forged, genuine = default.test_client(), default.test_client()
        forged.set_cookie("session", _forged(OLD_CONSTANT, payload))
        genuine.set_cookie("session", _forged(default.secret_key, payload))

        assert default.secret_key != OLD_CONSTANT
        assert not _signed_in(forged)
        assert _signed_in(genuine)  # the same cookie with the app's key: the forging is right
    finally:
        with default.app_context():
            db.engine.dispose()


def test_a_cookie_signed_with_the_apps_key_but_no_live_session_is_refused(app, client):
    alice = make_user("alice")
    client.set_cookie("session", _forged(app.secret_key, {"_user_id": str(alice.id)}))

    assert not _signed_in(client)


def test_a_replayed_signed_out_cookie_is_refused(app, client):
    alice = make_user("alice")
    make_project(alice, "demo")
    sign_in(client, "alice")
    cookie = _cookie(client)
    client.post("/logout", data={"csrf_token": form_csrf(client, TOKENS)})

    client.set_cookie("session", cookie)

    assert not _signed_in(client)
    htmx = client.post(
        "/alice/demo/settings/visibility",
        data={"visibility": "private"},
        headers={"HX-Request": "true", "X-CSRFToken": form_csrf(client)},
    )
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
    assert _sessions(alice) == 0


def test_signing_in_again_ends_the_browsers_earlier_session(app, client):
    alice = make_user("alice")
    sign_in(client, "alice")
    earlier = _cookie(client)

    again = client.post(
        "/login",
        data={"username": "alice", "password": "pw", "csrf_token": form_csrf(client, TOKENS)},
    )

    assert again.status_code == 302 and _signed_in(client)
    assert _sessions(alice) == 1
    replay = app.test_client()
    replay.set_cookie("session", earlier)
    assert not _signed_in(replay)


def test_a_password_change_ends_the_users_other_sessions_and_keeps_this_one(app):
    alice, bob = make_user("alice"), make_user("bob")
    changing, other, bobs = app.test_client(), app.test_client(), app.test_client()
    for client, name in ((changing, "alice"), (other, "alice"), (bobs, "bob")):
        sign_in(client, name)

    response = changing.post(
        PASSWORD,
        data={
            "csrf_token": form_csrf(changing, PASSWORD),
            "current_password": "pw",
            "new_password": "new-secret-pw",
            "confirm_password": "new-secret-pw",
        },
    )

    assert response.status_code == 302
    assert _signed_in(changing)
    assert not _signed_in(other)
    assert _signed_in(bobs)
    assert (_sessions(alice), _sessions(bob)) == (1, 1)


def test_a_refused_password_change_ends_no_session(app):
    make_user("alice")
    changing, other = app.test_client(), app.test_client()
    sign_in(changing, "alice")
    sign_in(other, "alice")

    response = changing.post(
        PASSWORD,
        data={
            "csrf_token": form_csrf(changing, PASSWORD),
            "current_password": "wrong",
            "new_password": "new-secret-pw",
            "confirm_password": "new-secret-pw",
        },
    )

    assert response.status_code == 400
    assert _signed_in(other)


def test_set_password_ends_every_session_of_the_user(app):
    alice = make_user("alice")
    browser = app.test_client()
    sign_in(browser, "alice")

    result = app.test_cli_runner().invoke(
        args=["set-password", "alice", "--password-stdin"], input="a-new-password\n"
    )

    assert result.exit_code == 0, result.output
    assert not _signed_in(browser)
    assert _sessions(alice) == 0


def test_the_password_page_counts_the_sessions_and_offers_sign_out_everywhere(app, client):
    make_user("alice")
    sign_in(app.test_client(), "alice")
    sign_in(client, "alice")

    page = _page(client.get(PASSWORD))

    assert "You have 2 signed-in sessions, this one included." in page.select_one("#sessions").text
    form = page.select_one("#sessions form")
    assert form["method"] == "post" and form["action"] == form["hx-post"] == EVERYWHERE
    assert form["hx-confirm"] and form.select_one("input[name=csrf_token]")["value"]
    assert form.select_one("button").text == "Sign out everywhere"


def test_sign_out_everywhere_ends_every_session_of_the_user_this_one_included(app, client):
    alice, bob = make_user("alice"), make_user("bob")
    other, bobs = app.test_client(), app.test_client()
    sign_in(other, "alice")
    sign_in(bobs, "bob")
    sign_in(client, "alice")

    response = client.post(EVERYWHERE, data={"csrf_token": form_csrf(client, PASSWORD)})

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    message = _page(client.get("/login")).select_one("#flash .flash-success").text
    assert message == "Signed out everywhere: 2 sessions ended."
    assert not _signed_in(client) and not _signed_in(other)
    assert _signed_in(bobs)
    assert (_sessions(alice), _sessions(bob)) == (0, 1)


def test_sign_out_everywhere_from_htmx_answers_with_hx_redirect_to_sign_in(app, client):
    alice = make_user("alice")
    sign_in(client, "alice")

    response = client.post(
        EVERYWHERE, headers={"HX-Request": "true", "X-CSRFToken": form_csrf(client, PASSWORD)}
    )

    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/login"
    assert not _signed_in(client)
    assert _sessions(alice) == 0


def test_sign_out_everywhere_without_the_csrf_token_ends_nothing(app, client):
    alice = make_user("alice")
    sign_in(client, "alice")

    response = client.post(EVERYWHERE)

    assert response.status_code == 400
    assert _signed_in(client) and _sessions(alice) == 1


def test_the_tokens_page_offers_revoke_all(app, client):
    make_user("alice")
    sign_in(client, "alice")

    page = _page(client.get(TOKENS))

    form = page.select_one("#revoke-all-tokens form")
    assert form["method"] == "post" and form["action"] == form["hx-post"] == REVOKE_ALL
    assert form["hx-target"] == "#tokens-table" and form["hx-confirm"]
    assert form.select_one("input[name=csrf_token]")["value"]
    assert page.select_one("#tokens-table table#tokens")


def test_revoke_all_tokens_locks_every_token_of_the_user_out_of_the_api(app, client):
    alice, bob = make_user("alice"), make_user("bob")
    keys = [make_token(alice), make_token(alice)]
    bobs_key = make_token(bob)
    sign_in(client, "alice")

    response = client.post(REVOKE_ALL, data={"csrf_token": form_csrf(client, TOKENS)})

    assert response.status_code == 302 and response.headers["Location"] == TOKENS
    page = _page(client.get(TOKENS))
    assert page.select_one("#flash .flash-success").text == "Revoked 2 API tokens."
    assert len(page.select("#tokens tr.revoked")) == 2
    for key in keys:
        refused = client.get("/api/v1/users", headers=auth(key))
        assert refused.status_code == 401 and refused.json == {"detail": "Invalid token."}
    assert client.get("/api/v1/users", headers=auth(bobs_key)).status_code == 200
    assert _signed_in(client)  # the session is not a token


def test_revoke_all_tokens_from_htmx_returns_the_table_and_the_message(app, client):
    alice = make_user("alice")
    make_token(alice)
    sign_in(client, "alice")

    response = client.post(
        REVOKE_ALL, headers={"HX-Request": "true", "X-CSRFToken": form_csrf(client, TOKENS)}
    )

    assert response.status_code == 200
    page = _page(response)
    assert page.select_one("#tokens-table #tokens tr.revoked")
    assert not page.select("#tokens-table form")  # no revoke button is left
    flash = page.select_one("#flash[hx-swap-oob=true]")
    assert flash.text.strip() == "Revoked 1 API token."


def test_revoke_all_tokens_without_the_csrf_token_revokes_nothing(app, client):
    alice = make_user("alice")
    key = make_token(alice)
    sign_in(client, "alice")

    assert client.post(REVOKE_ALL).status_code == 400
    assert client.get("/api/v1/users", headers=auth(key)).status_code == 200
    assert db.session.scalar(select(ApiToken.revoked_at)) is None


def test_a_session_older_than_its_maximum_age_is_refused_and_pruned(app, client):
    alice = make_user("alice")
    sign_in(client, "alice")
    db.session.execute(
        update(LoginSession).values(
            created_at=utcnow() - timedelta(days=app.config["SESSION_MAX_AGE_DAYS"], minutes=1)
        )
    )
    db.session.commit()

    assert not _signed_in(client)
    sign_in(app.test_client(), "alice")  # a sign-in removes expired rows
    assert _sessions(alice) == 1


def test_a_signed_in_page_costs_no_more_statements_for_the_session_check(
    app, client, count_queries
):
    alice = make_user("alice")
    make_project(alice, "demo")
    sign_in(client, "alice")
    client.get("/alice/demo")
    db.session.expunge_all()

    with count_queries() as statements:
        assert client.get("/alice/demo").status_code == 200

    # Before the sessions' table the page took 4 statements (the user by id, the project, the
    # group count and the groups), 6 since it lists running TensorBoards (their count and page):
    # the session check is the user's lookup, by the unique key.
    assert len(statements) == 6, statements
    checks = [s for s in statements if "login_sessions" in s]
    assert len(checks) == 1 and "key_hash" in checks[0] and checks[0] is statements[0]


def test_api_token_requests_never_read_the_sessions(app, client, count_queries):
    alice = make_user("alice")
    headers = auth(make_token(alice))
    client.get("/api/v1/users", headers=headers)

    with count_queries() as statements:
        assert client.get("/api/v1/users", headers=headers).status_code == 200

    assert not [s for s in statements if "login_sessions" in s]
