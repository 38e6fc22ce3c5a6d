"""Comparing two experiments in a real browser, from the group page's compare form."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.browser.conftest import sign_in
from tests.factories import auth, grid_yml, make_group, make_project, make_token, make_user


@pytest.fixture
def two_reporting_experiments(app, client):
    """alice's group of three; its first two experiments reported loss and accuracy curves."""
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "quick-start"), content=grid_yml(3))
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()[:2]
    headers = auth(make_token(alice))
    for experiment_id, rate in zip(ids, (0.5, 0.3), strict=True):
        for step in range(8):
            values = {
                "loss": round(2.0 * (1 - rate) ** step, 4),
                "accuracy": round(1 - 0.6 * (1 - rate) ** step, 4),
            }
            url = f"/api/v1/alice/quick-start/experiments/{experiment_id}/metrics/"
            response = client.post(url, json={"values": values}, headers=headers)
            assert response.status_code == 201
    return group, ids


def test_compare_two_experiments_from_the_group_page(
    page, live_server, two_reporting_experiments, screenshot
):
    group, ids = two_reporting_experiments
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")
    expect(page.locator("#group-timeline li.timeline-item").first).to_be_visible()

    page.fill("#compare-ids", f"{ids[0]},{ids[1]}")
    page.click("#group-compare button[type=submit]")

    page.wait_for_url(f"{live_server.url}/alice/quick-start/compare?experiments=*")
    expect(page.locator("h1")).to_have_text("Compare 2 experiments")
    expect(page.locator("#compare-params tr.differs")).to_have_count(1)
    expect(page.locator("#compare-charts figure")).to_have_count(2)
    expect(page.locator("#compare-charts figure").first.locator("polyline")).to_have_count(2)
    screenshot(page, "compare-page")
