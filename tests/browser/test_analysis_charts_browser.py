"""The analysis charts in Chromium: learning curves, contour and distribution on the group page,
a chart's mark opens its experiment, and the contour's pair is chosen on the page."""

import re

from playwright.sync_api import expect
from sqlalchemy import insert, select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentMetric
from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_user, report_metric, start_group

GRID = (
    "version: 1\nkind: group\nhptuning:\n  matrix:\n    lr: {values: [0.1, 0.01, 0.001]}\n"
    "    depth: {values: [1, 2, 3]}\n    act: {values: [relu, tanh]}\nrun:\n  cmd: echo\n"
)


def searched(app):
    """alice's group of 18 experiments, each with 12 reports of a falling loss."""
    group = make_group(make_project(make_user("alice", "secret-pw"), "quick-start"), content=GRID)
    group.objective = {"metric": "loss", "optimization": "minimize"}
    start_group(group)
    experiments = db.session.scalars(select(Experiment).where(Experiment.group_id == group.id))
    for experiment in experiments:
        p = experiment.params
        floor = p["lr"] * 3 + p["depth"] / 10 + (p["act"] == "tanh") / 5
        values = [floor + 1 / (step + 1) for step in range(12)]
        db.session.execute(
            insert(ExperimentMetric),
            [{"experiment_id": experiment.id, "values": {"loss": v}} for v in values],
        )
        report_metric(experiment.id, "loss", values[-1])
    db.session.commit()
    return group


def test_the_charts_are_drawn_and_a_mark_opens_its_experiment(page, live_server, app, screenshot):
    group = searched(app)
    sign_in(page, live_server, "alice", "secret-pw")
    group_url = f"{live_server.url}/alice/quick-start/groups/{group.id}/"
    page.goto(group_url)
    for name in ("curves", "contour", "edf"):
        expect(page.locator(f"#plot-{name} svg.chart")).to_be_visible()
    page.locator("#plot-curves").scroll_into_view_if_needed()
    screenshot(page, "analysis-curves")
    page.locator("#plot-contour").scroll_into_view_if_needed()
    screenshot(page, "analysis-contour-edf")

    page.select_option("#contour-pair select[name=x]", "act")
    expect(page.locator("#plot-contour svg")).to_have_attribute(
        "aria-label", re.compile(r"^contour of loss over act and depth\.")
    )
    mark = page.locator("#plot-metric svg a.mark").first
    experiment = mark.get_attribute("data-experiment")
    mark.locator("circle").click()
    page.wait_for_url(f"{group_url}experiments/{experiment}/")


def test_an_axis_range_adds_its_condition_to_the_tables_filter(page, live_server, app):
    group = searched(app)
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/?query=params.depth:1")
    rows = page.locator("#group-experiments tbody tr[data-id]")
    expect(rows).to_have_count(6)
    page.locator('#parallel-filters a[data-condition="params.act:relu"]').click()
    expect(rows).to_have_count(3)
    expect(page.locator("#table-query")).to_have_value("params.depth:1,params.act:relu")
    assert "query=params.depth%3A1%2Cparams.act%3Arelu" in page.url


def test_without_javascript_the_plots_page_draws_the_chosen_pair(browser, live_server, app):
    group = searched(app)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, "alice", "secret-pw")
        plots_url = f"{live_server.url}/alice/quick-start/groups/{group.id}/plots"
        page.goto(plots_url)
        page.select_option("#contour-pair select[name=x]", "act")
        page.select_option("#contour-pair select[name=y]", "lr")
        page.locator("#contour-pair button", has_text="Draw").click()
        page.wait_for_url(re.compile(r"/plots\?metric=loss&x=act&y=lr$"))
        expect(page.locator("#plot-contour svg")).to_have_attribute(
            "aria-label", re.compile(r"^contour of loss over act and lr\.")
        )
        mark = page.locator("#plot-contour svg a.mark").first
        assert mark.get_attribute("href").startswith(f"/alice/quick-start/groups/{group.id}/")
    finally:
        context.close()
