"""The group page's live updates reach screen readers: a changed status or count is put in the
page's polite live region once; polls that bring nothing new say nothing."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_user, move_experiments, start_group

# Counts what the live region is given to say (each change of its text).
COUNT_ANNOUNCEMENTS = """() => {
  window.__announcements = [];
  new MutationObserver(() => {
    window.__announcements.push(document.getElementById("live-announcer").textContent);
  }).observe(document.getElementById("live-announcer"), {childList: true, characterData: true,
                                                          subtree: true});
}"""


def test_a_status_change_is_announced_once(page, live_server, app):
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "quick-start"))
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")
    announcer = page.locator("#live-announcer")
    assert announcer.get_attribute("aria-live") == "polite"
    page.evaluate(COUNT_ANNOUNCEMENTS)

    start_group(group)
    move_experiments(group, 2, "running")

    expect(announcer).to_contain_text("Group status: running")
    expect(announcer).to_contain_text("Experiments: 8 created, 2 running")
    said = page.evaluate("window.__announcements.length")
    # Two more polls of the header (3 s apart) bring the same status and counts: nothing said.
    for _ in range(2):
        with page.expect_response(lambda r: "/live" in r.url, timeout=20_000):
            pass
    assert page.evaluate("window.__announcements.length") == said


def test_a_background_poll_does_not_dim_the_page(page, live_server, app):
    """A poll in flight leaves the header at full opacity (dimmed, its text falls below AA
    contrast and the page flickers every 3 s); a request the user starts still dims."""
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "quick-start"))
    start_group(group)
    held = []
    page.route("**/live?*", lambda route: held.append(route))
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")
    header = page.locator("#group-header")
    expect(header).to_have_class(re.compile(r"\bhtmx-request\b"), timeout=10_000)
    assert header.evaluate("e => getComputedStyle(e).opacity") == "1"
    page.route("**/bookmark", lambda route: held.append(route))
    toggle = page.locator("#bookmark-toggle")
    toggle.click()
    expect(toggle).to_have_class(re.compile(r"\bhtmx-request\b"))
    assert toggle.evaluate("e => getComputedStyle(e).opacity") == "0.6"
    for route in held:
        route.abort()
