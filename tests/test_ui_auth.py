"""Sign in, sign out, password change, CSRF and the login redirect of the HTML UI."""

from bs4 import BeautifulSoup

from tests.factories import make_project, make_user
from tests.support.web import form_csrf, sign_in


def test_anonymous_page_visit_redirects_to_login_with_next(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/")


def test_anonymous_htmx_request_gets_401_with_hx_redirect(client):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_sign_in_then_home_lists_visible_projects(client):
    alice = make_user("alice", "secret-pw")
    make_project(alice, "demo")
    response = sign_in(client, "alice", "secret-pw")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = BeautifulSoup(client.get("/").data, "html.parser")
    assert [a.text for a in page.select("#projects a")] == ["alice/demo"]


def test_wrong_password_does_not_say_which_part_was_wrong(client):
    make_user("alice", "secret-pw")
    wrong_password = sign_in(client, "alice", "nope")
    wrong_user = sign_in(client, "bob", "secret-pw")
    assert wrong_password.status_code == wrong_user.status_code == 401
    for response in (wrong_password, wrong_user):
        error = BeautifulSoup(response.data, "html.parser").select_one(".form-error").text
        assert error == "Wrong username or password."


def test_next_is_honoured_only_for_local_paths(client):
    make_user("alice", "secret-pw")
    assert (
        sign_in(client, "alice", "secret-pw", "/settings/password").headers["Location"]
        == "/settings/password"
    )
    client.post("/logout", data={"csrf_token": form_csrf(client, "/settings/password")})
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = sign_in(client, "alice", "secret-pw", hostile)
        assert response.headers["Location"] == "/"
        client.get("/logout")


def test_login_post_without_csrf_token_is_refused(client):
    make_user("alice", "secret-pw")
    response = client.post("/login", data={"username": "alice", "password": "secret-pw"})
    assert response.status_code == 400
    assert "CSRF" in BeautifulSoup(response.data, "html.parser").text


def test_repeated_failures_are_rate_limited_with_a_clear_message(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    make_user("alice", "secret-pw")
    codes = [sign_in(client, "alice", "wrong").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    text = BeautifulSoup(sign_in(client, "alice", "wrong").data, "html.parser").text
    assert "Too many requests" in text


def test_change_password(client):
    alice = make_user("alice", "secret-pw")
    sign_in(client, "alice", "secret-pw")
    token = form_csrf(client, "/settings/password")
    bad = client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": "nope",
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert bad.status_code == 400
    errors = [p.text for p in BeautifulSoup(bad.data, "html.parser").select(".field-error")]
    assert errors == ["The current password is wrong.", "Use at least 8 characters."]
    good = client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": "secret-pw",
            "new_password": "new-secret-pw",
            "confirm_password": "new-secret-pw",
        },
    )
    assert good.status_code == 302
    assert alice.check_password("new-secret-pw")


def test_app_links_of_the_cli_redirect(client):
    make_user("alice", "secret-pw")
    sign_in(client, "alice", "secret-pw")
    assert client.get("/app").headers["Location"] == "/"


def test_unknown_page_is_a_404_page(client):
    make_user("alice", "secret-pw")
    sign_in(client, "alice", "secret-pw")
    response = client.get("/no/such/thing/at/all")
    assert response.status_code == 404
    assert "404" in BeautifulSoup(response.data, "html.parser").h1.text


def test_htmx_post_after_the_session_expired_gets_401_with_hx_redirect(client):
    alice = make_user("alice", "secret-pw")
    make_project(alice, "demo")
    sign_in(client, "alice", "secret-pw")
    with client.session_transaction() as session:
        session.clear()  # what an expired session looks like to the server
    response = client.post(
        "/alice/demo/settings/visibility", headers={"HX-Request": "true"}, data={"is_public": "0"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"
