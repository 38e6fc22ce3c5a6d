"""Notes on the group page in a real browser: saved with htmx and rendered in place; without
JavaScript the plain form saves and the page comes back; a stale save keeps both texts."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from dashboard.services.group import notes
from dashboard.services.project.access import project_access
from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_user

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def alice_group(app):
    alice = make_user("alice", "secret-pw")
    return make_group(make_project(alice, "quick-start"))


def group_url(live_server, group):
    return f"{live_server.url}/alice/quick-start/groups/{group.id}/"


def test_notes_saved_with_htmx_render_as_markdown_in_place(
    page, live_server, alice_group, screenshot
):
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(group_url(live_server, alice_group))
    page.evaluate("window.__loaded_once = true")

    page.fill("#notes-markdown", "## Plan\n\n- try **lr 0.01**\n- [docs](https://example.com)")
    page.click("#notes-save")

    expect(page.locator("#notes .notes-html h2")).to_have_text("Plan")
    expect(page.locator("#notes .notes-html li strong")).to_have_text("lr 0.01")
    expect(page.locator("#notes .notes-html a")).to_have_attribute("rel", "nofollow noopener")
    expect(page.locator("#notes input[name=version]")).to_have_value("1")
    assert page.evaluate("window.__loaded_once") is True  # swapped, never reloaded
    screenshot(page, "group-notes")

    # Someone else saves meanwhile: this page's next save is stale and keeps both texts.
    owner = project_access("alice", "quick-start", actor=alice_group.user)
    notes.save_group_notes(owner, alice_group.id, markdown="# Theirs", version=1)
    page.fill("#notes-markdown", "mine")
    page.click("#notes-save")

    expect(page.locator("#notes-error")).to_contain_text("Someone saved these notes")
    expect(page.locator("#notes .notes-html h1")).to_have_text("Theirs")
    expect(page.locator("#notes-markdown")).to_have_value("# Theirs")
    expect(page.locator("#notes-draft")).to_have_value("mine")
    # The rendered notes, the message and both editors pass axe-core (labels, contrast).
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}}).response
    found = [v["id"] for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert found == []
    screenshot(page, "group-notes-stale")


def test_without_javascript_the_plain_form_saves_the_notes(browser, live_server, alice_group):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, "alice", "secret-pw")
        page.goto(group_url(live_server, alice_group))
        page.fill("#notes-markdown", "*no script* here")
        page.click("#notes-save")

        expect(page.locator("#notes .notes-html em")).to_have_text("no script")
        assert page.url.startswith(group_url(live_server, alice_group))
        expect(page.locator("#notes input[name=version]")).to_have_value("1")
    finally:
        context.close()
