"""Pause, resume, extend and retry from the group page in Chromium, with htmx and without
JavaScript; each answer checked through the API."""

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_token, make_user, start_group


@pytest.fixture
def running_group(app):
    """A running random search of 10 in alice's project; returns (group, token)."""
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "quick-start"))
    start_group(group)
    return group, make_token(alice)


def api(live_server, group, token):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/alice/quick-start/groups/{group.id}/",
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def open_group(page, live_server, group):
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")


def test_pause_resume_and_extend_with_htmx(page, live_server, running_group, screenshot):
    group, token = running_group
    open_group(page, live_server, group)
    page.evaluate("window.__loaded_once = true")

    page.click("#pause-button")
    expect(page.locator("#status-badge")).to_have_text("paused")
    expect(page.locator("#group-held")).to_contain_text("10 pending experiments held")
    assert api(live_server, group, token)["last_status"] == "paused"
    screenshot(page, "group-paused")

    page.click("#resume-button")
    expect(page.locator("#status-badge")).to_have_text("running")
    expect(page.locator("#group-held")).to_have_count(0)

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.fill("#extend-count", "3")
    page.click("#extend-button")
    expect(page.locator("#group-counts [data-status=created] dd")).to_have_text("13")
    assert dialogs and dialogs[0].startswith("Extend the search?")
    assert api(live_server, group, token)["num_experiments"] == 13
    assert page.evaluate("window.__loaded_once") is True  # never reloaded


def test_pause_resume_and_extend_without_javascript(browser, live_server, running_group):
    group, token = running_group
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        open_group(page, live_server, group)
        page.click("#pause-button")
        expect(page.locator("#status-badge")).to_have_text("paused")
        expect(page.locator(".flash")).to_contain_text("The group is paused.")
        page.click("#resume-button")
        expect(page.locator("#status-badge")).to_have_text("running")
        page.fill("#extend-count", "2")
        page.click("#extend-button")
        page.click("#confirm-button")  # without JavaScript the server asks first
        expect(page.locator(".flash")).to_contain_text("The search is extended by 2.")
        assert api(live_server, group, token)["num_experiments"] == 12
        page.fill("#extend-count", "0")
        page.click("#extend-button")  # the browser's own check refuses 0: nothing is sent
        assert api(live_server, group, token)["num_experiments"] == 12
    finally:
        context.close()
