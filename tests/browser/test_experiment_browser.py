"""The experiment page and the group's plots in a real browser."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentMetric
from dashboard.models.types import utcnow
from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_user

GRID = (
    "version: 1\nkind: group\nhptuning:\n  matrix:\n"
    "    lr: {values: [0.1, 0.03, 0.01, 0.003]}\n    act: {values: [relu, tanh, elu]}\n"
    "run:\n  cmd: echo\n"
)


@pytest.fixture
def finished_group(app):
    """alice's group of 12 experiments, 10 finished with a loss history, 2 still running."""
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "quick-start"), content=GRID)
    experiments = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    start = utcnow() - timedelta(hours=2)
    for index, experiment in enumerate(experiments):
        lr, act = experiment.params["lr"], experiment.params["act"]
        final = 0.2 + abs(lr - 0.01) * 5 + {"relu": 0.0, "tanh": 0.1, "elu": 0.05}[act]
        experiment.status = "running" if index >= 10 else "succeeded"
        experiment.started_at = start + timedelta(minutes=index)
        if index < 10:
            experiment.finished_at = start + timedelta(minutes=index + 5)
        experiment.last_metric = {"loss": final, "accuracy": 1 - final / 2}
        db.session.add_all(
            [
                ExperimentMetric(
                    experiment_id=experiment.id,
                    values={"loss": final + 1.5 / epoch, "accuracy": 1 - final / 2 - 0.3 / epoch},
                    created_at=start + timedelta(minutes=index, seconds=epoch),
                )
                for epoch in range(1, 11)
            ]
        )
    group.objective = {"metric": "loss", "optimization": "minimize"}
    db.session.commit()
    return group, experiments


def test_open_an_experiment_and_see_its_chart(page, live_server, finished_group, screenshot):
    group, experiments = finished_group
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")
    expect(page.locator("#plot-metric svg")).to_be_visible()
    expect(page.locator("#group-coverage table.coverage-grid")).to_be_visible()
    page.locator("#group-plots").scroll_into_view_if_needed()
    screenshot(page, "group-plots")

    page.goto(
        f"{live_server.url}/alice/quick-start/groups/{group.id}/experiments/{experiments[3].id}/"
    )
    expect(page.locator("#experiment-metrics svg polyline.series")).to_have_count(2)
    expect(page.locator("#next-experiment")).to_contain_text(str(experiments[4].id))
    screenshot(page, "experiment-page")
