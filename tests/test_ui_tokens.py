"""API tokens page: the key is shown once, only its hash is stored, revoking locks it out."""

from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ApiToken
from dashboard.models.users import hash_key
from dashboard.services.user import users
from tests.factories import auth, make_token, make_user
from tests.support.web import form_csrf, sign_in

TOKENS = "/settings/tokens"


def _page(response):
    return BeautifulSoup(response.data, "html.parser")


def _create(client, name="laptop"):
    return client.post(TOKENS, data={"csrf_token": form_csrf(client, TOKENS), "name": name})


def _new_key(response):
    return _page(response).select_one("#new-key-value")["value"]


def test_creating_a_token_shows_its_key_once_with_a_warning(client):
    make_user("alice")
    sign_in(client, "alice")

    response = _create(client)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    key = _new_key(response)
    assert "will not be shown again" in _page(response).select_one("#new-key").text
    assert key.encode() not in client.get(TOKENS).data


def test_only_the_hash_of_the_key_is_stored(client):
    make_user("alice")
    sign_in(client, "alice")

    key = _new_key(_create(client))

    token = db.session.execute(select(ApiToken)).scalar_one()
    assert token.key_hash == hash_key(key) != key
    assert key not in (token.name, token.key_hash)


def test_the_new_key_authenticates_api_requests(client):
    make_user("alice")
    sign_in(client, "alice")
    key = _new_key(_create(client))
    client.get("/logout")

    response = client.get("/api/v1/users", headers=auth(key))

    assert response.status_code == 200 and response.json["username"] == "alice"


def test_token_without_a_name_shows_the_error_inline(client):
    make_user("alice")
    sign_in(client, "alice")

    response = _create(client, name="  ")

    assert response.status_code == 400
    assert _page(response).select_one("#new-token .field-error").text == "Give the token a name."
    assert db.session.scalar(select(ApiToken.id)) is None


def test_the_name_error_is_tied_to_its_input_for_screen_readers(client):
    make_user("alice")
    sign_in(client, "alice")

    page = _page(_create(client, name="  "))

    field = page.select_one("#new-token input[name=name]")
    assert field["aria-invalid"] == "true"
    described = page.select_one(f"#{field['aria-describedby']}")
    assert described.text == "Give the token a name."


def test_tokens_are_listed_with_created_last_used_and_revoked(client):
    alice = make_user("alice")
    used_key = users.create_token(alice, "used")[1]
    client.get("/api/v1/users", headers=auth(used_key))
    revoked, _ = users.create_token(alice, "old")
    users.revoke_token(revoked.id, actor=alice)
    sign_in(client, "alice")

    rows = _page(client.get(TOKENS)).select("#tokens tbody tr")
    cells = [[td.text.strip() for td in row.select("td")][:4] for row in rows]

    assert [c[0] for c in cells] == ["old", "used"]
    assert (cells[0][2], cells[1][3]) == ("never", "no")
    assert rows[1].select("td")[2].time is not None
    assert rows[0].select("td")[3].time is not None
    assert rows[0].select_one("form") is None and rows[1].select_one("form") is not None


def test_other_users_tokens_are_not_listed(client):
    make_token(make_user("bob"))
    make_user("alice")
    sign_in(client, "alice")

    assert _page(client.get(TOKENS)).select("#tokens tbody tr[id]") == []


def test_revoking_a_token_makes_the_api_refuse_its_key(client):
    alice = make_user("alice")
    key = make_token(alice)
    token_id = db.session.scalar(select(ApiToken.id))
    sign_in(client, "alice")
    form = _page(client.get(TOKENS)).select_one(f"#token-{token_id} form")

    response = client.post(
        form["action"], data={"csrf_token": form.select_one("[name=csrf_token]")["value"]}
    )

    assert response.status_code == 302 and response.headers["Location"] == TOKENS
    client.get("/logout")
    api = client.get("/api/v1/users", headers=auth(key))
    assert api.status_code == 401 and api.json == {"detail": "Invalid token."}


def test_revoking_over_htmx_returns_the_updated_row(client):
    key = make_token(make_user("alice"))
    token_id = db.session.scalar(select(ApiToken.id))
    sign_in(client, "alice")

    response = client.post(
        f"{TOKENS}/{token_id}/revoke",
        data={"csrf_token": form_csrf(client, TOKENS)},
        headers={"HX-Request": "true"},
    )

    row = _page(response).select_one("tr")
    assert row["id"] == f"token-{token_id}" and "revoked" in row["class"]
    assert row.select_one("form") is None
    assert client.get("/api/v1/users", headers=auth(key)).status_code == 401


def test_another_users_token_cannot_be_revoked(client):
    make_token(make_user("bob"))
    token_id = db.session.scalar(select(ApiToken.id))
    make_user("alice")
    sign_in(client, "alice")

    response = client.post(
        f"{TOKENS}/{token_id}/revoke", data={"csrf_token": form_csrf(client, TOKENS)}
    )

    assert response.status_code == 404
    assert db.session.get(ApiToken, token_id).revoked_at is None


def test_creating_a_token_requires_the_csrf_token(client):
    make_user("alice")
    sign_in(client, "alice")

    response = client.post(TOKENS, data={"name": "laptop"})

    assert response.status_code == 400
    assert db.session.scalar(select(ApiToken.id)) is None


def test_revoking_a_token_requires_the_csrf_token(client):
    make_token(make_user("alice"))
    token_id = db.session.scalar(select(ApiToken.id))
    sign_in(client, "alice")

    response = client.post(f"{TOKENS}/{token_id}/revoke")

    assert response.status_code == 400
    assert db.session.get(ApiToken, token_id).revoked_at is None


def test_the_cli_link_app_token_opens_the_tokens_page(client):
    make_user("alice")
    sign_in(client, "alice")

    assert client.get("/app/token").headers["Location"] == TOKENS
    assert client.get("/app/token/").headers["Location"] == TOKENS


def test_tokens_page_answers_with_a_trailing_slash_and_is_linked_from_the_nav(client):
    make_user("alice")
    sign_in(client, "alice")

    page = _page(client.get(TOKENS + "/"))

    assert page.select_one(f".topnav a[href='{TOKENS}']").text == "API tokens"
