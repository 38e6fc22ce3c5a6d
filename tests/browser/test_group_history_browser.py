"""The group page in a real browser: a long status message gets the room it needs; plots with no
objective say so."""

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentValue, GroupStatus
from dashboard.models.types import utcnow
from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_user

STOP_REASON = (
    "Search complete: 12 experiments (9 succeeded, 2 failed, 1 stopped); the "
    "early-stopping rule on loss fired after experiment 9 and the remaining "
    "suggestions were cancelled."
)

# How many lines of text a cell holds: its height without padding over its line height.
LINES = """cell => {
    const style = getComputedStyle(cell);
    const text = cell.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    return Math.round(text / parseFloat(style.lineHeight));
}"""


def finished_group():
    """alice's group, succeeded, whose last status carries a long message."""
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "quick-start"))
    start = utcnow() - timedelta(minutes=30)
    db.session.add_all(
        [
            GroupStatus(group_id=group.id, status="running", created_at=start),
            GroupStatus(
                group_id=group.id,
                status="succeeded",
                message=STOP_REASON,
                created_at=start + timedelta(minutes=25),
            ),
        ]
    )
    group.status = "succeeded"
    db.session.commit()
    return group


def test_a_long_status_message_takes_the_width_the_other_columns_leave(
    page, live_server, app, screenshot
):
    group = finished_group()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")
    message = page.locator("#group-history td.message", has_text="Search complete")
    expect(message).to_be_visible()
    page.locator("#group-history").scroll_into_view_if_needed()
    screenshot(page, "group-history-long-message")

    table = page.locator("#group-history table").bounding_box()
    box = message.bounding_box()
    # The message column takes more than half the table, and the reason fits in three lines
    # (it took nineteen in a column a word wide).
    assert box["width"] > table["width"] / 2, (box, table)
    lines = message.evaluate(LINES)
    assert lines <= 3, (box, lines)


def test_plots_without_an_objective_say_which_metric_they_show(page, live_server, app, screenshot):
    group = finished_group()
    experiments = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    for index, experiment in enumerate(experiments):
        experiment.status = "succeeded"
        experiment.finished_at = utcnow() - timedelta(minutes=20 - index)
        # Stored as a report stores them: last_metric and a typed value row each.
        experiment.last_metric = {"accuracy": 0.5 + index / 40, "loss": 1.0 - index / 20}
        db.session.add_all(
            [
                ExperimentValue(
                    experiment_id=experiment.id,
                    group_id=group.id,
                    kind="metric",
                    name=name,
                    num_value=value,
                    text_value=str(value),
                )
                for name, value in experiment.last_metric.items()
            ]
        )
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")

    expect(page.locator("#plots-note")).to_have_text(
        "No objective set: showing accuracy. Choose one with “Objective” above the experiments "
        "table."
    )
    expect(page.locator("#group-best")).to_contain_text("No objective")
    expect(page.locator("#plot-metric svg circle").first).to_be_visible()
    expect(page.locator("#plot-metric svg polyline")).to_have_count(0)
    page.locator("#group-plots").scroll_into_view_if_needed()
    screenshot(page, "group-plots-no-objective")
