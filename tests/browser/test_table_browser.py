"""The experiments table in a real browser: filter, sort, choose columns, reload, export link."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.browser.conftest import sign_in
from tests.factories import grid_yml, make_group, make_project, make_user, report_metric

LOSSES = (0.9, 0.1, 0.45, 0.3, 10, 9)


@pytest.fixture
def group_with_losses(app):
    """alice's reference group (10 experiments), six with a loss; returns (group, ids)."""
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "quick-start"))
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    for experiment_id, loss in zip(ids, LOSSES, strict=False):
        report_metric(experiment_id, "loss", loss)
    return group, ids


def rows(page):
    return page.locator("#group-experiments tbody tr[data-id]")


def heads(page):
    return page.locator("#group-experiments thead tr:last-child th")


def test_filter_sort_and_columns_survive_a_reload(page, live_server, group_with_losses, screenshot):
    group, ids = group_with_losses
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")
    expect(rows(page)).to_have_count(10)

    page.fill("#table-query", "metric.loss:>0.2")
    page.click("#table-filter-apply")
    expect(rows(page)).to_have_count(5)
    expect(page).to_have_url(
        f"{live_server.url}/alice/quick-start/groups/{group.id}/?query=metric.loss%3A%3E0.2"
    )

    page.click("a[data-sort='metric.loss']")
    expect(rows(page).first).to_have_attribute("data-id", str(ids[3]))  # 0.3, then 0.45 ... 10
    expect(rows(page).last).to_have_attribute("data-id", str(ids[4]))
    page.click("a[data-sort='metric.loss']")
    expect(rows(page).first).to_have_attribute("data-id", str(ids[4]))  # 10 before 9
    expect(rows(page).nth(1)).to_have_attribute("data-id", str(ids[5]))

    page.click("#column-chooser summary")
    for key in (
        "params.dropout",
        "params.batch_size",
        "params.num_epochs",
        "params.num_steps",
        "started_at",
        "duration",
    ):
        page.uncheck(f"#table-columns input[value='{key}']")
    page.check("#table-columns input[value='finished_at']")
    page.click("#table-columns-save")
    expected = ["ID", "Status", "learning_rate", "activation", "loss", "Finished"]
    expect(heads(page)).to_have_count(len(expected))
    assert [h.strip(" ▲▼") for h in heads(page).all_text_contents()] == expected
    expect(rows(page)).to_have_count(5)  # the filter and the sort stayed
    assert "columns=" in page.url and "query=" in page.url

    page.reload()
    expect(heads(page)).to_have_count(len(expected))
    expect(rows(page).first).to_have_attribute("data-id", str(ids[4]))
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/")  # the saved choice
    expect(heads(page)).to_have_count(len(expected))
    expect(rows(page)).to_have_count(10)

    page.fill("#table-query", "colour:red")
    page.click("#table-filter-apply")
    expect(page.locator("#table-error")).to_contain_text("colour")
    expect(rows(page)).to_have_count(10)
    page.fill("#table-query", "metric.loss:<1")
    page.click("#table-filter-apply")
    expect(rows(page)).to_have_count(4)
    href = page.get_attribute("#download-csv", "href")
    assert href.startswith(f"/alice/quick-start/groups/{group.id}/experiments.csv?")
    assert "query=metric.loss" in href

    page.select_option("#objective-metric", "loss")
    page.select_option("#objective-form select[name=optimization]", "minimize")
    page.click("#objective-save")
    expect(page.locator("#group-experiments tbody tr.best")).to_have_attribute(
        "data-id", str(ids[1])
    )
    expect(page.locator("#best-link")).to_have_attribute(
        "href", f"/alice/quick-start/groups/{group.id}/experiments/{ids[1]}/"
    )
    expect(rows(page)).to_have_count(4)  # the view stayed
    screenshot(page, "group-table")


def test_a_filtered_page_shows_at_once_and_its_count_follows(page, live_server, screenshot):
    """A filtered page is read without counting its matches: the page loads the count, and
    with it the pager's last page."""
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "quick-start"), content=grid_yml(45))
    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/quick-start/groups/{group.id}/?query=params.x:>=10")
    expect(rows(page)).to_have_count(20)
    expect(page.locator("#table-count")).to_contain_text("35 of 45 match the filter")
    expect(page.locator(".pager .page-of")).to_have_text("Page 1 of 2")
    page.click(".pager a[rel=last]")
    expect(rows(page)).to_have_count(15)
    expect(rows(page).last).to_have_attribute(
        "data-id",
        str(max(db.session.scalars(select(Experiment.id).where(Experiment.group_id == group.id)))),
    )
    expect(page.locator(".pager .page-of")).to_have_text("Page 2 of 2")
    expect(page.locator("#table-count")).to_contain_text("35 of 45 match the filter")
    screenshot(page, "group-table-filtered-page-2")
