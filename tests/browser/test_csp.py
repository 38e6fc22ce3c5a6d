"""The Content-Security-Policy in a real browser: every page works and nothing is blocked."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.services.group import tensorboards
from dashboard.services.project.access import project_access
from tests.browser.conftest import sign_in
from tests.factories import (
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    write_scalar,
)

# Runs before any page script; the browser fires this event for every blocked load or eval.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""


@pytest.fixture
def reporting_group(app, client):
    """alice's group of three; two experiments reported a loss curve."""
    alice = make_user("alice", "secret-pw")
    project = make_project(alice, "quick-start")
    group = make_group(project, content=grid_yml(3))
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    headers = auth(make_token(alice))
    for experiment_id in ids[:2]:
        for step in range(4):
            response = client.post(
                f"/api/v1/alice/quick-start/experiments/{experiment_id}/metrics/",
                json={"values": {"loss": 1.0 / (step + 1)}},
                headers=headers,
            )
            assert response.status_code == 201
    return alice, project, group, ids


@pytest.fixture
def watched(page):
    """The page, recording CSP violations (DOM events and console reports)."""
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)

    def violations():
        reported = page.evaluate("window.__csp || []")
        return reported + [text for text in console if "Content Security Policy" in text]

    page.violations = violations
    return page


def test_pages_and_htmx_actions_run_under_the_policy(
    watched, live_server, reporting_group, screenshot
):
    page = watched
    _, _, group, ids = reporting_group
    sign_in(page, live_server, "alice", "secret-pw")
    base = f"{live_server.url}/alice/quick-start/groups/{group.id}"

    response = page.goto(f"{base}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#group-plots figure").first).to_be_visible()  # htmx loaded the plots
    expect(page.locator("#group-coverage table")).to_be_visible()
    page.click("#bookmark-toggle")
    expect(page.locator("#bookmark-toggle")).to_contain_text("★ Bookmarked")
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert page.violations() == []

    page.goto(f"{base}/experiments/{ids[0]}/")
    expect(page.locator("svg").first).to_be_visible()
    assert page.violations() == []

    page.goto(f"{live_server.url}/alice/quick-start/compare?experiments={ids[0]},{ids[1]}")
    expect(page.locator("svg").first).to_be_visible()
    screenshot(page, "csp-compare")
    assert page.violations() == []


def test_the_new_key_is_selected_on_focus_without_inline_handlers(watched, live_server, app):
    page = watched
    make_user("alice", "secret-pw")
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/settings/tokens")
    page.fill("#new-token input[name=name]", "laptop")
    page.click("#new-token button[type=submit]")
    page.locator("#new-key-value").wait_for()
    # Focus it afresh (it may have been focused as it arrived, and a second focus fires nothing).
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.focus("#new-key-value")
    selected = page.evaluate(
        "(() => { const i = document.getElementById('new-key-value');"
        " return i.value.substring(i.selectionStart, i.selectionEnd); })()"
    )
    assert selected == page.input_value("#new-key-value") and len(selected) == 40
    assert page.violations() == []


def test_an_injected_inline_script_is_blocked(watched, live_server, app):
    """The policy is really enforced: an inline script added to the page does not run."""
    page = watched
    make_user("alice", "secret-pw")
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/")
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = true'; document.body.appendChild(s); }""")
    assert page.evaluate("window.__ran === true") is False
    assert any("script-src" in v for v in page.violations())


def test_tensorboard_renders_through_the_proxy_under_its_policy(
    watched, live_server, reporting_group, screenshot
):
    page = watched
    alice, project, group, _ = reporting_group
    write_scalar(tensorboards.group_outputs_dir(project, group.id) / "experiments" / "1")
    tensorboards.start_tensorboard(project_access("alice", "quick-start", actor=alice), group.id)
    sign_in(page, live_server, "alice", "secret-pw")
    url = f"{live_server.url}/tensorboard/alice/quick-start/groups/{group.id}/"
    deadline_ms = 60_000
    page.goto(url)
    # Until TensorBoard answers, the proxy shows our "not answering yet" page: reload until up.
    for _ in range(60):
        if page.locator("tb-webapp, tf-tensorboard").count():
            break
        page.wait_for_timeout(1000)
        page.goto(url)
    expect(page.get_by_text("loss").first).to_be_visible(timeout=deadline_ms)
    screenshot(page, "csp-tensorboard")
    assert page.violations() == []
