"""The group page's live updates reach screen readers: a changed status or count is put in the
page's polite live region once; polls that bring nothing new say nothing."""

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

