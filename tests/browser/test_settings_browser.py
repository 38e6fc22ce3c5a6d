"""Sign out everywhere and revoke all API tokens, clicked in a real browser (with and without
JavaScript)."""

import urllib.error
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import make_token, make_user


def _api_status(live_server, key):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/users", headers={"Authorization": f"token {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _accept_confirm(page):
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    return dialogs


def test_sign_out_everywhere_signs_every_browser_out(browser, page, live_server, screenshot):
    make_user("alice", "secret-pw")
    other = browser.new_context().new_page()
    sign_in(other, live_server, "alice", "secret-pw")
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/settings/password")
    expect(page.locator("#sessions")).to_contain_text(
        "You have 2 signed-in sessions, this one included."
    )

    dialogs = _accept_confirm(page)
    page.click("#sessions button")

    page.wait_for_url(f"{live_server.url}/login")
    expect(page.locator("#flash")).to_have_text("Signed out everywhere: 2 sessions ended.")
    assert "every session" in dialogs[0]
    other.goto(f"{live_server.url}/")
    assert other.url.startswith(f"{live_server.url}/login?next=")
    screenshot(page, "signed-out-everywhere")
    other.context.close()


def test_revoke_all_tokens_updates_the_table_in_place(page, live_server, screenshot):
    alice = make_user("alice", "secret-pw")
    keys = [make_token(alice), make_token(alice)]
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/settings/tokens")
    page.evaluate("window.__loaded_once = true")

    dialogs = _accept_confirm(page)
    page.click("#revoke-all-tokens button")

    expect(page.locator("#flash")).to_have_text("Revoked 2 API tokens.")
    expect(page.locator("#tokens tr.revoked")).to_have_count(2)
    assert "Revoke all your API tokens?" in dialogs[0]
    assert page.evaluate("window.__loaded_once") is True  # swapped in, never reloaded
    assert [_api_status(live_server, key) for key in keys] == [401, 401]
    screenshot(page, "tokens-revoked")


def test_revoke_all_tokens_works_with_javascript_disabled(browser, live_server):
    alice = make_user("alice", "secret-pw")
    key = make_token(alice)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, "alice", "secret-pw")
        page.goto(f"{live_server.url}/settings/tokens")
        page.click("#revoke-all-tokens button")
        expect(page.locator("#confirm-question")).to_contain_text("Revoke all your API tokens?")
        assert _api_status(live_server, key) == 200  # asked first: nothing revoked yet
        page.click("#confirm-button")
        expect(page.locator("#flash")).to_have_text("Revoked 1 API token.")
        expect(page.locator("#tokens tr.revoked")).to_have_count(1)
        assert _api_status(live_server, key) == 401
    finally:
        context.close()
