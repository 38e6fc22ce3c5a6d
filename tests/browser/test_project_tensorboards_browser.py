"""In Chromium, by keyboard, with JavaScript on and off: the project page lists its running
TensorBoards (a group's and a selection's), passes axe-core, and Stop ends one of them."""

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.browser.conftest import sign_in, tab_to
from tests.factories import auth, grid_yml, make_group, make_project, make_token, make_user

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def running(app, live_server):
    """alice's group of three experiments with its TensorBoard and one over its first and third
    experiments, both started by the live server; (ids, selection job, group job, api)."""
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "demo"), content=grid_yml(3))
    experiments = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    ids = [experiments[0], experiments[2]]
    api = f"{live_server.url}/api/v1/alice/demo"
    headers = auth(make_token(alice))
    group_job = requests.post(
        f"{api}/groups/{group.id}/tensorboard/start/", json={}, headers=headers, timeout=60
    )
    selection = requests.post(
        f"{api}/tensorboards/", json={"experiments": ids}, headers=headers, timeout=60
    )
    assert (group_job.status_code, selection.status_code) == (201, 201), selection.text

    def job(job_id):
        return requests.get(f"{api}/tensorboards/{job_id}/", headers=headers, timeout=60).json()

    return ids, selection.json()["id"], group_job.json()["id"], job


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_stop_a_selections_tensorboard_from_the_project_page_by_keyboard(
    browser, live_server, running, screenshot, javascript
):
    ids, selection, group_job, job = running
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    try:
        sign_in(page, live_server, "alice", "secret-pw")
        page.goto(f"{live_server.url}/alice/demo/")
        if "/login" in page.url:  # once, on a loaded PostgreSQL run: say what the server saw
            pytest.fail(
                f"the signed-in project page went to {page.url}; server log:\n{live_server.tail()}"
            )
        row = page.locator(f"#tensorboard-{selection}")
        expect(row).to_contain_text(f"Experiments {ids[0]}, {ids[1]}")
        expect(page.locator(f"#tensorboard-{group_job}")).to_contain_text("Group alice.demo.")
        expect(page.locator(f"#tensorboard-open-{selection}")).to_have_attribute(
            "href", f"/tensorboard/alice/demo/selections/{selection}/"
        )
        if javascript:  # axe-core runs in the page; the section with rows passes it
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
            found = [
                v["id"]
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert found == []
            page.evaluate("window.__loaded_once = true")
        screenshot(page, f"project-tensorboards-{'js' if javascript else 'nojs'}")

        tab_to(page, f"#tensorboard-stop-{selection}")
        page.keyboard.press("Enter")

        expect(row).to_have_count(0)
        expect(page.locator(f"#tensorboard-{group_job}")).to_be_visible()
        expect(page.locator("#tensorboards-title")).to_contain_text("(1 running)")
        if javascript:  # the section was swapped in place
            assert page.evaluate("window.__loaded_once") is True
        else:  # the page came back, saying so
            expect(page.locator("#flash")).to_contain_text(f"TensorBoard {selection} stopped.")
        assert job(selection)["last_status"] == "stopped"
        assert job(group_job)["last_status"] == "running"
    finally:
        context.close()
