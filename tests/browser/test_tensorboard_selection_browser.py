"""In Chromium: "Open in TensorBoard" from the group's compare form (htmx) and from the compare
page (JavaScript off) opens a TensorBoard whose runs are the chosen experiments only."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, TensorboardJob
from dashboard.processes.tensorboard import wait_until_serving
from dashboard.storage import paths
from tests.browser.conftest import sign_in
from tests.factories import grid_yml, make_group, make_project, make_user, write_scalar


@pytest.fixture
def chosen(app):
    """alice's group of three experiments, each with a scalar; (group, the first and third)."""
    group = make_group(make_project(make_user("alice", "secret-pw"), "demo"), content=grid_yml(3))
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    for experiment_id in ids:
        write_scalar(
            paths.experiment_outputs_dir(app.config, "alice", "demo", group.id, experiment_id)
        )
    return group, [ids[0], ids[2]]


def _serving_job(ids):
    """The selection's job as the server committed it, once its TensorBoard serves."""
    db.session.expire_all()
    job = db.session.scalars(
        select(TensorboardJob).where(TensorboardJob.experiment_ids == ids)
    ).one()
    assert wait_until_serving(job.host, job.port, timeout=60, pid=job.pid)
    return job


def _shows_exactly(page, live_server, job, ids):
    url = f"{live_server.url}/tensorboard/alice/demo/selections/{job.id}/"
    page.wait_for_url(url)
    page.reload()  # the first answer may have come before TensorBoard served
    expect(page.locator("tb-webapp")).to_be_attached(timeout=60_000)
    runs = page.request.get(url + "data/runs").json()
    assert sorted(runs) == [f"experiment-{i}/." for i in ids]


def test_group_compare_form_opens_the_selection_in_tensorboard(
    page, live_server, chosen, screenshot
):
    group, ids = chosen
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/demo/groups/{group.id}/")
    page.fill("#compare-ids", f"{ids[0]}, {ids[1]}")
    screenshot(page, "selection-tensorboard-group-form")

    page.click("#compare-tensorboard")

    page.wait_for_url("**/selections/**")
    _shows_exactly(page, live_server, _serving_job(ids), ids)
    screenshot(page, "selection-tensorboard-open")


def test_compare_page_opens_the_compared_experiments_without_javascript(
    browser, live_server, chosen
):
    _, ids = chosen
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/demo/compare?experiments={ids[0]},{ids[1]}")

    page.click("#compare-tensorboard")

    page.wait_for_url("**/selections/**")
    _shows_exactly(page, live_server, _serving_job(ids), ids)
    context.close()
