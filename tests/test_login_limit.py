"""One limit on failed sign-ins for the page and the API: per (address, account), per address."""

from bs4 import BeautifulSoup

from tests.factories import make_user
from tests.support.web import form_csrf

ATTACKER, OWNER = "10.0.0.66", "10.0.0.7"


def _api(client, username, password, address):
    return client.post(
        "/api/v1/users/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _page(client, username, password, address):
    data = {"username": username, "password": password, "csrf_token": form_csrf(client)}
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address})


def test_failures_on_the_page_and_the_api_share_one_count(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    make_user("alice", "right-password")

    codes = [
        _page(client, "alice", "no", ATTACKER).status_code,
        _api(client, "alice", "no", ATTACKER).status_code,
        _page(client, "alice", "no", ATTACKER).status_code,
    ]

    assert codes == [401, 400, 401]
    assert _api(client, "alice", "right-password", ATTACKER).status_code == 429
    assert _page(client, "alice", "right-password", ATTACKER).status_code == 429


def test_guessing_from_elsewhere_does_not_lock_the_owner_out(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    make_user("alice", "right-password")
    for _ in range(2):
        _api(client, "alice", "guess", ATTACKER)
    assert _api(client, "alice", "guess", ATTACKER).status_code == 429

    assert _api(client, "alice", "right-password", OWNER).status_code == 200
    assert _page(app.test_client(), "alice", "right-password", OWNER).status_code == 302


def test_one_address_trying_many_accounts_meets_the_per_address_limit(app, client):
    app.config.update(LOGIN_RATE_LIMIT="10 per minute", LOGIN_ADDRESS_RATE_LIMIT="3 per minute")
    make_user("zoe", "right-password")

    codes = [_api(client, f"user{i}", "guess", ATTACKER).status_code for i in range(4)]

    assert codes == [400, 400, 400, 429]
    refused = _api(client, "zoe", "right-password", ATTACKER)
    assert refused.status_code == 429
    assert refused.json == {
        "detail": "Too many failed sign-ins from your address "
        "(limit: 3 per 1 minute). Try again later."
    }
    assert _api(client, "zoe", "right-password", OWNER).status_code == 200


def test_a_limited_address_is_told_so_on_the_sign_in_form(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    make_user("alice", "right-password")
    _page(client, "alice", "guess", ATTACKER)

    response = _page(client, "alice", "right-password", ATTACKER)

    assert response.status_code == 429
    page = BeautifulSoup(response.data, "html.parser")
    assert page.select_one("p.form-error[role=alert]").text == (
        "Too many requests (limit: 1 per 1 minute). Try again later."
    )
    assert page.select_one("form input[name=username]")  # the form itself, not an error page
    assert client.get("/").status_code == 302  # not signed in


def test_successful_sign_ins_use_up_nothing(app, client):
    app.config.update(LOGIN_RATE_LIMIT="1 per minute", LOGIN_ADDRESS_RATE_LIMIT="1 per minute")
    make_user("alice", "right-password")

    codes = [_api(client, "alice", "right-password", OWNER).status_code for _ in range(3)]

    assert codes == [200, 200, 200]
