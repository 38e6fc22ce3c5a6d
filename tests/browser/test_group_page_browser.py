"""The group page in a real browser: bookmark, describe, stop; with and without JavaScript."""

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_token, make_user


@pytest.fixture
def reference_group(app):
    """The reference page's group in alice's project; returns (owner, group, token)."""
    alice = make_user("alice", "secret-pw")
    project = make_project(alice, "quick-start")
    group = make_group(project)
    return alice, group, make_token(alice)


def api_group(live_server, group, token):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/alice/quick-start/groups/{group.id}/",
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def group_url(live_server, group):
    return f"{live_server.url}/alice/quick-start/groups/{group.id}/"


def test_bookmark_describe_and_stop_without_reloading(
    page, live_server, reference_group, screenshot
):
    _, group, token = reference_group
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(group_url(live_server, group))
    page.evaluate("window.__loaded_once = true")
    screenshot(page, "group-page")

    page.click("#bookmark-toggle")
    expect(page.locator("#bookmark-toggle")).to_contain_text("★ Bookmarked")
    assert api_group(live_server, group, token)["bookmarked"] is True

    page.fill("#description-form textarea[name=description]", "Tuned by the browser test")
    page.click("#description-save")
    expect(page.locator("#group-description")).to_contain_text("Tuned by the browser test")
    assert api_group(live_server, group, token)["description"] == "Tuned by the browser test"

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("#stop-button")
    expect(page.locator("#status-badge")).to_have_text("stopped")
    assert "10 pending experiments will be stopped" in dialogs[0]
    assert page.evaluate("window.__loaded_once") is True  # the page was never reloaded
    assert api_group(live_server, group, token)["last_status"] == "stopped"
    screenshot(page, "group-page-stopped")


def test_the_same_actions_work_with_javascript_disabled(browser, live_server, reference_group):
    _, group, token = reference_group
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, "alice", "secret-pw")
        page.goto(group_url(live_server, group))
        page.click("#bookmark-toggle")
        expect(page.locator("#bookmark-toggle")).to_contain_text("★ Bookmarked")
        page.fill("#description-form textarea[name=description]", "No script here")
        page.click("#description-save")
        expect(page.locator("#group-description")).to_contain_text("No script here")
        page.click("#stop-button")
        expect(page.locator("#confirm-question")).to_contain_text("Stop this group?")
        page.click("#confirm-button")  # without JavaScript the server asks first
        expect(page.locator("#status-badge")).to_have_text("stopped")
        body = api_group(live_server, group, token)
        assert (body["bookmarked"], body["description"], body["last_status"]) == (
            True,
            "No script here",
            "stopped",
        )
    finally:
        context.close()


def test_project_page_screenshot(page, live_server, reference_group, screenshot):
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/")
    expect(page.locator("body")).to_contain_text("alice.quick-start")
    screenshot(page, "project-page")
