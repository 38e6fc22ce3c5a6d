"""Keyboard only, with JavaScript on and off: sign in, open a group, bookmark it, change its
concurrency and stop it, with the focus visible on every element Tab reaches; without
JavaScript the server asks before Stop, Delete and Extend, and Cancel changes nothing; pause,
resume and extend from the keyboard too."""

import json
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import tab_to
from tests.factories import make_group, make_project, make_token, make_user, start_group


@pytest.fixture
def keyboard_group(app):
    """alice's group of 10 pending experiments; returns (group, token)."""
    alice = make_user("alice", "secret-pw")
    return make_group(make_project(alice, "quick-start")), make_token(alice)


def api_group(live_server, group, token):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/alice/quick-start/groups/{group.id}/",
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_for(check, seconds=20):
    """Poll `check` until it holds, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def sign_in_by_keyboard(page, live_server):
    page.goto(f"{live_server.url}/login")
    tab_to(page, "input[name=username]")
    page.keyboard.type("alice")
    tab_to(page, "input[name=password]")
    page.keyboard.type("secret-pw")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_sign_in_bookmark_set_concurrency_and_stop_by_keyboard(
    browser, live_server, keyboard_group, screenshot, javascript
):
    group, token = keyboard_group
    context = browser.new_context()
    if not javascript:  # as the axe test does: the page renders and posts as with JS off
        context.route("**/*.js", lambda route: route.abort())
    page = context.new_page()
    try:
        sign_in_by_keyboard(page, live_server)
        tab_to(page, 'main a[href="/alice/quick-start/"]')
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/alice/quick-start/")
        tab_to(page, f'main a[href="/alice/quick-start/groups/{group.id}/"]')
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/alice/quick-start/groups/{group.id}/")

        tab_to(page, "#bookmark-toggle")
        page.keyboard.press("Space")
        expect(page.locator("#bookmark-toggle")).to_contain_text("★ Bookmarked")
        if javascript:  # the swapped button keeps the focus (a reload starts from the top)
            expect(page.locator("#bookmark-toggle")).to_be_focused()
        assert api_group(live_server, group, token)["bookmarked"] is True

        tab_to(page, "#concurrency-form input[name=concurrency]")
        page.keyboard.press("Control+A")
        page.keyboard.type("3")
        page.keyboard.press("Enter")
        wait_for(lambda: api_group(live_server, group, token)["concurrency"] == 3)
        expect(page.locator("#concurrency-form input[name=concurrency]")).to_have_value("3")

        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        tab_to(page, "#stop-button")
        screenshot(page, f"keyboard-stop-focused-{'js' if javascript else 'nojs'}")
        page.keyboard.press("Enter")
        if not javascript:  # the server asks instead of the browser, on a page of its own
            expect(page.locator("#confirm-question")).to_contain_text("Stop this group?")
            tab_to(page, "#confirm-button")
            screenshot(page, "keyboard-stop-confirm-nojs")
            page.keyboard.press("Enter")
        expect(page.locator("#status-badge")).to_have_text("stopped")
        assert api_group(live_server, group, token)["last_status"] == "stopped"
        assert bool(dialogs) is javascript  # the confirmation is the browser's, with JS
    finally:
        context.close()


def test_delete_asks_first_without_javascript_and_cancel_keeps_the_group(
    browser, live_server, keyboard_group
):
    group, token = keyboard_group
    group_url = f"{live_server.url}/alice/quick-start/groups/{group.id}/"
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in_by_keyboard(page, live_server)
        page.goto(group_url)
        tab_to(page, "#delete-button")
        page.keyboard.press("Enter")
        expect(page.locator("#confirm-question")).to_contain_text("Delete")
        assert api_group(live_server, group, token)["id"] == group.id  # asked, nothing done
        tab_to(page, "#cancel-link")
        page.keyboard.press("Enter")
        page.wait_for_url(group_url)
        assert api_group(live_server, group, token)["id"] == group.id

        tab_to(page, "#delete-button")
        page.keyboard.press("Enter")
        # Tab only once the confirmation page is there (not while the post is under way).
        expect(page.locator("#confirm-question")).to_contain_text("Delete")
        tab_to(page, "#confirm-button")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/alice/quick-start/")
        expect(page.locator("#flash")).to_contain_text(f"Group {group.id} deleted.")
        with pytest.raises(urllib.error.HTTPError) as gone:
            api_group(live_server, group, token)
        assert gone.value.code == 404
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_pause_resume_and_extend_by_keyboard(browser, live_server, keyboard_group, javascript):
    group, token = keyboard_group
    start_group(group)
    context = browser.new_context()
    if not javascript:
        context.route("**/*.js", lambda route: route.abort())
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        sign_in_by_keyboard(page, live_server)
        page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")
        tab_to(page, "#pause-button")
        page.keyboard.press("Enter")
        expect(page.locator("#status-badge")).to_have_text("paused")
        tab_to(page, "#resume-button")
        page.keyboard.press("Space")
        expect(page.locator("#status-badge")).to_have_text("running")

        tab_to(page, "#extend-count")
        page.keyboard.press("Control+A")
        page.keyboard.type("3")
        page.keyboard.press("Enter")
        if not javascript:  # the server asks on its own page
            expect(page.locator("#confirm-question")).to_contain_text("Extend the search?")
            tab_to(page, "#confirm-button")
            page.keyboard.press("Enter")
        wait_for(lambda: api_group(live_server, group, token)["num_experiments"] == 13)
    finally:
        context.close()
