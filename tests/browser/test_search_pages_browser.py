"""An asha group's page in a real browser: its rungs plot, a promotion's link, and the
promoted experiment's page naming the experiment it continues."""

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_user
from tests.support import searches
from tests.support.searches import ASHA_YML, asha_loss, run_rounds


def test_the_asha_rungs_plot_links_a_promotion_to_the_experiment_it_continues(
    page, live_server, app, screenshot
):
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "demo"), content=ASHA_YML)
    run_rounds(group, asha_loss)
    promoted = next(e for e in searches.experiments(group) if e.original_experiment_id)

    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/demo/groups/{group.id}/")
    figure = page.locator("#plot-asha")
    expect(figure.locator("figcaption")).to_have_text("ASHA rungs")
    expect(figure.locator("svg")).to_contain_text("rung 2: epochs 9")
    screenshot(page, "group-page-asha")

    figure.get_by_role("link", name=f"#{promoted.id}", exact=True).first.click()
    expect(page.locator("h1")).to_contain_text(f"Experiment {promoted.id}")
    origin = page.locator("#experiment-origin")
    expect(origin).to_contain_text(f"Promoted from experiment {promoted.original_experiment_id}")
    screenshot(page, "experiment-page-promoted")
    origin.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(f"Experiment {promoted.original_experiment_id}")


TPE_YML = """\
version: 1
kind: group
hptuning:
  concurrency: 2
  seed: 3
  tpe: {n_experiments: 8, n_initial_trials: 3, metric: {name: loss, optimization: minimize}}
  matrix:
    x: {range: [0, 100, 1]}
run:
  cmd: train --x {{ x }}
"""


def test_a_tpe_groups_plot_shows_its_suggestions_in_order(page, live_server, app, screenshot):
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "demo"), content=TPE_YML)
    run_rounds(group, lambda params: (params["x"] - 30) ** 2)

    sign_in(page, live_server, "alice", "secret-pw")
    page.goto(f"{live_server.url}/alice/demo/groups/{group.id}/")
    figure = page.locator("#plot-tpe")
    expect(figure.locator("figcaption")).to_have_text("TPE suggestions")
    expect(figure.locator("svg")).to_contain_text("TPE: suggestions in order")
    expect(figure.locator("svg")).to_contain_text("initial suggestions")
    expect(figure.locator("svg")).to_contain_text("tpe suggestions")
    figure.scroll_into_view_if_needed()
    screenshot(page, "group-page-tpe")
