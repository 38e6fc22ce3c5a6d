"""Without JavaScript the sections the group page loads by htmx (plots, coverage, timeline)
are a link away: each opens on a page of its own, whose metric choice, colouring and paging
work as plain links and forms."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import finish, grid_yml, make_group, make_project, make_user, start_group


@pytest.fixture
def finished_grid(app):
    """alice's finished grid of 60 experiments, each with a loss."""
    group = make_group(
        make_project(make_user("alice", "secret-pw"), "quick-start"), content=grid_yml(60)
    )
    start_group(group)
    finish(group)
    return group


@pytest.fixture
def nojs_page(browser, live_server, finished_grid):
    """A page of a context with JavaScript off, signed in as alice."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, "alice", "secret-pw")
    yield page
    context.close()


def test_plots_open_on_their_own_page_and_the_metric_choice_works(
    nojs_page, live_server, finished_grid, screenshot
):
    page, group_url = nojs_page, f"{live_server.url}/alice/quick-start/groups/{finished_grid.id}/"
    page.goto(group_url)
    page.locator("#group-plots a", has_text="open them on a page of their own").click()
    page.wait_for_url(f"{group_url}plots")
    expect(page.locator("h2", has_text="Plots")).to_be_visible()
    expect(page.locator("#plot-metric svg.chart")).to_be_visible()
    screenshot(page, "nojs-plots-page")
    page.locator("#group-plots button", has_text="Show").click()
    page.wait_for_url(f"{group_url}plots?metric=loss")
    expect(page.locator("#plot-metric svg.chart")).to_be_visible()
    page.locator("#back-to-group").click()
    page.wait_for_url(group_url)


def test_coverage_colouring_and_timeline_paging_work_as_links(
    nojs_page, live_server, finished_grid
):
    page, group_url = nojs_page, f"{live_server.url}/alice/quick-start/groups/{finished_grid.id}/"
    page.goto(group_url)
    page.locator("#group-coverage a", has_text="open it on a page of its own").click()
    page.wait_for_url(f"{group_url}coverage")
    page.locator("#group-coverage a", has_text="metric").click()
    page.wait_for_url(f"{group_url}coverage?colour=metric")
    expect(page.locator("#group-coverage strong", has_text="metric")).to_be_visible()

    page.goto(group_url)
    page.locator("#group-timeline a", has_text="open it on a page of its own").click()
    page.wait_for_url(f"{group_url}timeline")
    first = page.locator("#group-timeline li").first.inner_text()
    page.locator("#group-timeline a[rel=next]").click()
    page.wait_for_url(f"{group_url}timeline?offset=50")
    expect(page.locator("#group-timeline a[rel=prev]")).to_be_visible()
    assert page.locator("#group-timeline li").first.inner_text() != first
