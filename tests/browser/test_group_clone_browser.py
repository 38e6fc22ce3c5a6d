"""Search around best in a real browser: from the group page to the narrowed form, a new spread,
and the new group created from it."""

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import make_project, make_token, make_user
from tests.support.around_best import searched_group


@pytest.fixture
def searched(app):
    """alice's SEARCH group, finished with a loss it minimises; returns (group, token)."""
    alice = make_user("alice", "secret-pw")
    return searched_group(make_project(alice, "quick-start")), make_token(alice)


def _api_group(live_server, group_id, token):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/alice/quick-start/groups/{group_id}/",
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_search_around_best_shows_what_it_narrowed_and_creates_the_group(
    page, live_server, searched, screenshot
):
    group, token = searched
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")

    page.click("#around-best-link")
    notes = page.locator("#narrowed-notes li")
    expect(notes).to_have_text(
        [
            "lr: linspace 0:1:5 → 0.25:0.75:5 around 0.5",
            "units: values [10, 20, 30, 40] → [30] around 30",
            "act: values kept (categorical)",
        ]
    )
    expect(page.locator("#spread")).to_have_value("0.25")

    page.fill("#spread", "0.5")
    page.click("#narrow-button")
    expect(notes.nth(1)).to_have_text("units: values [10, 20, 30, 40] → [20, 30, 40] around 30")
    expect(page.locator("#new-group textarea[name=content]")).to_contain_text("[20, 30, 40]")
    screenshot(page, "group-search-around-best")

    page.fill("#new-group-name", "finer")
    page.click("#new-group button[type=submit]")
    page.wait_for_url(re.compile(r"/alice/quick-start/groups/\d+/$"))
    expect(page.locator("#group-header h1")).to_have_text("finer")
    clone_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    clone = _api_group(live_server, clone_id, token)
    assert clone["cloned_from"] == group.id
    assert clone["num_experiments"] == 5 * 3 * 2
    assert clone["hptuning"]["matrix"]["units"] == {"values": [20, 30, 40]}
