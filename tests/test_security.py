"""Security: headers, cookies, stored secrets, `next`, rate limits, CSRF, escaping."""

import csv
import hashlib
import io
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from config import Config, ProductionConfig
from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import ApiToken, User
from dashboard.security import CSP
from dashboard.services.experiment import metrics
from dashboard.services.experiment.credentials import experiment_access
from dashboard.services.group import tensorboards
from dashboard.services.project import projects
from dashboard.services.project.access import project_access
from dashboard.storage import paths
from tests.factories import (
    auth,
    first_experiment_id,
    make_group,
    make_project,
    make_token,
    make_user,
    write_scalar,
)
from tests.support.web import HTMX, form_csrf, poll, sign_in

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'


def _policy(response):
    return response.headers.getlist("Content-Security-Policy")


def _assert_strict_headers(response, frame_ancestors="'none'"):
    assert _policy(response) == [
        CSP.replace("frame-ancestors 'none'", f"frame-ancestors {frame_ancestors}")
    ]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == (
        "DENY" if frame_ancestors == "'none'" else "SAMEORIGIN"
    )


def _directives(policy):
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


# ---- headers ----------------------------------------------------------------------------


def test_the_policy_allows_scripts_from_our_origin_only():
    directives = _directives(CSP)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    # Inline styles only as attributes (the status bars), never as <style> elements.
    assert directives["style-src"] == ["'self'"]
    assert "'unsafe-eval'" not in CSP and "script-src 'unsafe-inline'" not in CSP


def test_pages_fragments_json_and_errors_carry_the_security_headers(app, client):
    alice = make_user("alice")
    group = make_group(make_project(alice, "demo"))
    anonymous = [
        client.get("/login"),
        client.get("/static/app.css"),
        client.get("/api/v1/versions/cli/"),
        client.get("/api/v1/nope/"),
        client.get("/api/v1/users/"),
        client.delete("/api/v1/versions/cli/"),
    ]
    sign_in(client, "alice")
    signed_in = [
        client.get("/"),
        client.get(f"/alice/demo/groups/{group.id}/"),
        client.get(f"/alice/demo/groups/{group.id}/plots", headers=HTMX),
        client.get(f"/alice/demo/groups/{group.id}/experiments.csv"),
        client.get("/alice/nothing-here/"),
        client.get("/alice/demo/groups/999/"),
        client.post("/projects", data={"name": "x"}),
    ]  # no CSRF token: 400 page
    assert [r.status_code for r in anonymous] == [200, 200, 200, 401, 401, 405]
    assert [r.status_code for r in signed_in] == [200, 200, 200, 200, 404, 404, 400]
    for response in anonymous + signed_in:
        _assert_strict_headers(response)


def test_pages_load_no_inline_script_and_no_inline_handler(app, client):
    alice = make_user("alice")
    group = make_group(make_project(alice, "demo"))
    sign_in(client, "alice")
    for path in (
        "/",
        "/alice/demo/",
        f"/alice/demo/groups/{group.id}/",
        "/settings/tokens",
        f"/alice/demo/groups/{group.id}/experiments/{first_experiment_id(group)}/",
    ):
        page = BeautifulSoup(client.get(path).data, "html.parser")
        for script in page.find_all("script"):
            assert script.get("src", "").startswith("/static/") and not script.string
        assert not page.find_all("style")
        assert not _handlers(page), path


def test_tensorboard_keeps_its_own_policy_and_may_be_framed_only_by_us(app, client):
    alice = make_user("alice", "secret-pw")
    project = make_project(alice, "demo", public=False)
    group = make_group(project)
    write_scalar(tensorboards.group_outputs_dir(project, group.id) / "experiments" / "1")
    sign_in(client, "alice", "secret-pw")
    base = f"/tensorboard/alice/demo/groups/{group.id}/"
    _assert_strict_headers(client.get(base), frame_ancestors="'self'")  # not running: our page

    tensorboards.start_tensorboard(project_access("alice", "demo", actor=alice), group.id)
    poll(client, base + "data/runs", lambda r: r.status_code == 200 and r.json)
    index = client.get(base)

    assert index.status_code == 200
    theirs, ours = _policy(index)
    assert "'unsafe-eval'" in _directives(theirs)["script-src"]  # TensorBoard's own bundle
    assert _directives(ours) == {
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    }
    assert index.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert index.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in index.headers


# ---- cookies and stored secrets -----------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    make_user("alice")
    response = sign_in(client, "alice")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure_only():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"
    assert "SECRET_KEY" in ProductionConfig.REQUIRED_SETTINGS


def test_passwords_are_stored_as_scrypt_hashes(app):
    app.config["PASSWORD_HASH_METHOD"] = Config.PASSWORD_HASH_METHOD
    make_user("alice", "correct horse")
    stored = db.session.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored.startswith("scrypt:") and "correct horse" not in stored


def test_tokens_are_stored_only_as_sha256_hashes(app):
    key = make_token(make_user("alice"))
    rows = db.session.execute(select(ApiToken)).scalars().all()
    assert [row.key_hash for row in rows] == [hashlib.sha256(key.encode()).hexdigest()]
    assert all(key not in str(value) for row in rows for value in vars(row).values())


# ---- next -------------------------------------------------------------------------------

HOSTILE_NEXT = (
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    "http:/evil",
    "///evil.example",
    " //evil.example",
    "evil.example",
    "data:text/html,x",
)


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_never_redirects_off_site(app, client, target):
    make_user("alice")
    page = BeautifulSoup(client.get("/login", query_string={"next": target}).data, "html.parser")
    assert page.select_one("input[name=next]") is None
    assert sign_in(client, "alice", next_url=target).headers["Location"] == "/"
    assert client.get("/login", query_string={"next": target}).headers["Location"] == "/"


def test_sign_in_follows_a_local_next_with_its_query(app, client):
    make_user("alice")
    response = sign_in(client, "alice", next_url="/settings/tokens?x=1")
    assert response.headers["Location"] == "/settings/tokens?x=1"


# ---- rate limits ------------------------------------------------------------------------


def test_repeated_failed_api_logins_get_a_clear_429(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    make_user("alice")
    codes = [
        client.post(
            "/api/v1/users/token/", json={"username": "alice", "password": "no"}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    refused = client.post("/api/v1/users/token/", json={"username": "alice", "password": "pw"})
    assert refused.status_code == 429
    assert refused.json == {"detail": "Too many requests (limit: 3 per 1 minute). Try again later."}


def test_repeated_failed_sign_ins_get_a_clear_429_page(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    make_user("alice")
    codes = [sign_in(client, "alice", "wrong").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    text = BeautifulSoup(sign_in(client, "alice").data, "html.parser").text
    assert "Too many requests (limit: 2 per 1 minute)" in text


def test_api_logins_mint_a_limited_number_of_tokens_per_user(app, client):
    app.config["TOKEN_RATE_LIMIT"] = "2 per hour"
    make_user("alice")
    make_user("bob")
    body = {"username": "alice", "password": "pw"}
    codes = [client.post("/api/v1/users/token/", data=body).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert (
        client.post("/api/v1/users/token/", json=body)
        .json["detail"]
        .startswith("Too many requests")
    )
    bob = client.post("/api/v1/users/token/", json={"username": "bob", "password": "pw"})
    assert bob.status_code == 200  # counted per user
    assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 3


def test_the_tokens_page_limits_new_tokens_with_an_inline_message(app, client):
    app.config["TOKEN_RATE_LIMIT"] = "2 per hour"
    make_user("alice")
    sign_in(client, "alice")
    csrf = form_csrf(client, "/settings/tokens")
    codes = [
        client.post("/settings/tokens", data={"name": f"t{i}", "csrf_token": csrf}).status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]
    page = BeautifulSoup(
        client.post("/settings/tokens", data={"name": "t9", "csrf_token": csrf}).data, "html.parser"
    )
    assert page.select_one("#new-token .field-error").text.startswith("Too many new tokens")
    assert page.select_one("#new-key") is None
    assert len(page.select("#tokens tbody tr")) == 2


def _app_with(app, **settings):
    """Another app over the same database, with some settings changed."""
    config = {key: value for key, value in app.config.items() if key.isupper()}
    return create_app(SimpleNamespace(**{**config, **settings}))


def _failed_login(client, address):
    return client.post(
        "/api/v1/users/token/",
        json={"username": "alice", "password": "no"},
        headers={"X-Forwarded-For": address},
    ).status_code


def test_behind_a_trusted_proxy_each_client_has_its_own_sign_in_limit(app):
    make_user("alice")
    client = _app_with(app, TRUSTED_PROXY_HOPS=1, LOGIN_RATE_LIMIT="2 per minute").test_client()
    assert [_failed_login(client, "10.0.0.1") for _ in range(3)] == [400, 400, 429]
    assert _failed_login(client, "10.0.0.2") == 400


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    make_user("alice")
    assert [_failed_login(client, f"10.0.0.{i}") for i in range(3)] == [400, 400, 429]


def test_https_answers_in_production_carry_hsts(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    assert "Strict-Transport-Security" not in client.get("/login").headers  # plain http
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


# ---- CSRF -------------------------------------------------------------------------------


def test_ui_posts_without_the_csrf_token_are_refused_and_change_nothing(app, client):
    make_user("alice")
    sign_in(client, "alice")
    for path, data in (
        ("/projects", {"name": "sneaky"}),
        ("/settings/tokens", {"name": "x"}),
        (
            "/settings/password",
            {"current_password": "pw", "new_password": "p2x", "confirm_password": "p2x"},
        ),
    ):
        assert client.post(path, data=data).status_code == 400
        assert (
            client.post(path, data=data, headers={**HTMX, "X-CSRFToken": "forged"}).status_code
            == 400
        )
    assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 0
    assert client.get("/alice/sneaky/").status_code == 404


def test_a_sign_out_link_on_another_site_only_asks(app, client):
    make_user("alice")
    sign_in(client, "alice")
    confirm = client.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert confirm.status_code == 200
    form = BeautifulSoup(confirm.data, "html.parser").select_one("#logout-form")
    assert form["method"] == "post" and form.select_one("input[name=csrf_token]")
    assert client.get("/").status_code == 200  # still signed in
    assert client.post("/logout").status_code == 400  # a post needs the token
    assert client.get("/").status_code == 200
    token = form.select_one("input[name=csrf_token]")["value"]
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_our_own_sign_out_link_signs_out(app, client):
    make_user("alice")
    sign_in(client, "alice")
    assert client.get("/logout", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 302
    assert client.get("/").status_code == 302


# ---- escaping ---------------------------------------------------------------------------

HOSTILE_YML = f"""# {SCRIPT} {IMG}
version: 1
kind: group
hptuning:
  concurrency: 1
  matrix:
    x:
      values: ['{SCRIPT}', '{IMG.replace("'", "''")}']
run:
  cmd: echo "{{{{ x }}}}"
"""


def _handlers(page):
    """Elements carrying an inline event handler attribute (onerror=, onclick=...)."""
    return [
        tag
        for tag in page.find_all(True)
        if any(name.lower().startswith("on") for name in tag.attrs)
    ]


def _assert_escaped(response, *shown):
    assert response.status_code in (200, 286), response.status_code
    page = BeautifulSoup(response.data, "html.parser")
    assert not _handlers(page)
    assert not page.find_all("img", src="x")
    assert all(s.get("src", "").startswith("/static/") for s in page.find_all("script"))
    for text in shown:
        assert text in page.get_text(), text


def test_user_text_is_escaped_on_every_page_that_shows_it(app, client):
    alice = make_user("alice")
    project = projects.create_project(
        actor=alice, name="demo", description=f"{SCRIPT}{IMG}", tags=[IMG]
    )
    group = make_group(
        project, content=HOSTILE_YML, description=f"about {SCRIPT} {IMG}", tags=[SCRIPT, IMG]
    )
    xp = first_experiment_id(group)
    # The API refuses such metric names; the pages must escape them all the same.
    access = experiment_access("alice", "demo", xp, actor=alice, action="report_metrics")
    metrics.report_metrics(
        access, [SimpleNamespace(values={SCRIPT: 0.5, IMG: 0.25}, created_at=None)]
    )
    log = paths.experiment_log_path(app.config, "alice", "demo", group.id, xp)
    log.parent.mkdir(parents=True)
    log.write_text(f"step 1 {SCRIPT}\nstep 2 {IMG}\n")
    sign_in(client, "alice")
    base = f"/alice/demo/groups/{group.id}"

    _assert_escaped(client.get("/alice/demo/"), SCRIPT)
    _assert_escaped(client.get(f"{base}/"), SCRIPT, IMG, f"about {SCRIPT}")
    _assert_escaped(client.get(f"{base}/experiments", headers=HTMX), SCRIPT)
    _assert_escaped(client.get(f"{base}/live", headers=HTMX))
    _assert_escaped(client.get(f"{base}/plots", headers=HTMX), SCRIPT)
    _assert_escaped(client.get(f"{base}/plots", query_string={"metric": SCRIPT}, headers=HTMX))
    _assert_escaped(client.get(f"{base}/coverage", headers=HTMX))
    _assert_escaped(client.get(f"{base}/timeline", headers=HTMX))
    _assert_escaped(client.get(f"{base}/experiments/{xp}/"), SCRIPT, f"step 2 {IMG}")
    _assert_escaped(client.get(f"{base}/experiments/{xp}/log", headers=HTMX), f"step 1 {SCRIPT}")
    compare = {"experiments": f"{xp},{xp + 1}"}
    _assert_escaped(client.get("/alice/demo/compare", query_string=compare), SCRIPT)
    _assert_escaped(client.get("/alice/demo/compare", query_string={"groups": str(group.id)}))
    _assert_escaped(client.get("/", headers={}))
    csv = client.get(f"{base}/experiments.csv")
    assert csv.mimetype == "text/csv" and csv.headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_refuses_metric_names_that_are_markup(app, client):
    alice = make_user("alice")
    group = make_group(make_project(alice, "demo"))
    response = client.post(
        f"/api/v1/alice/demo/experiments/{first_experiment_id(group)}/metrics/",
        json={"values": {IMG: 1.0}},
        headers=auth(make_token(alice)),
    )
    assert response.status_code == 400 and "not a valid metric name" in str(response.json)


def test_hostile_query_values_are_escaped_in_the_answer(app, client):
    alice = make_user("alice")
    group = make_group(make_project(alice, "demo"))
    sign_in(client, "alice")
    base = f"/alice/demo/groups/{group.id}"
    for response in (
        client.get(f"{base}/", query_string={"query": f"metric.{IMG}:<1"}),
        client.get(f"{base}/", query_string={"sort": SCRIPT}),
        client.get(f"{base}/experiments", query_string={"query": IMG}, headers=HTMX),
        client.get("/alice/demo/compare", query_string={"experiments": SCRIPT}),
    ):
        page = BeautifulSoup(response.data, "html.parser")
        assert response.status_code < 500
        assert not _handlers(page) and not page.find_all("img", src="x")
        assert all(s.get("src", "").startswith("/static/") for s in page.find_all("script"))


def test_the_csv_export_defuses_spreadsheet_formulas(app, client):
    alice = make_user("alice")
    content = (
        "version: 1\nkind: group\nhptuning:\n  matrix:\n"
        "    x: {values: ['=HYPERLINK(\"http://evil.example\")', '-2+3', 'plain']}\n"
        "    y: {values: [-1.5]}\nrun:\n  cmd: echo {{ x }}\n"
    )
    group = make_group(make_project(alice, "demo"), content=content)
    sign_in(client, "alice")
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/alice/demo/groups/{group.id}/experiments.csv").get_data(as_text=True)
            )
        )
    )
    column = rows[0].index("params.x")
    assert sorted(row[column] for row in rows[1:]) == [
        "'-2+3",
        '\'=HYPERLINK("http://evil.example")',
        "plain",
    ]
    assert {row[rows[0].index("params.y")] for row in rows[1:]} == {"-1.5"}  # numbers stay
