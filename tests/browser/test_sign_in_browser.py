"""Signing in with a real browser."""

from tests.browser.conftest import sign_in
from tests.factories import make_project, make_user


def test_sign_in_shows_the_projects(page, live_server, screenshot):
    alice = make_user("alice", "secret-pw")
    make_project(alice, "demo")
    sign_in(page, live_server, "alice", "secret-pw")
    assert page.locator("#projects a").all_inner_texts() == ["alice/demo"]
    screenshot(page, "home")


def test_wrong_password_stays_on_the_login_page(page, live_server):
    make_user("alice", "secret-pw")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".form-error").inner_text() == "Wrong username or password."
