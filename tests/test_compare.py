"""The compare page: experiments side by side (params, metrics, charts) and groups (specs)."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.ui.charts import report_lines
from dashboard.ui.charts.kit import colour, nice_ticks, tick_labels, widen
from tests.factories import auth, grid_yml, make_group, make_project, make_token, make_user
from tests.support.web import sign_in

RANDOM_2 = (
    "version: 1\nkind: group\nhptuning:\n  concurrency: 4\n  random_search: {n_experiments: 2}\n"
    "  matrix:\n    x: {values: [0, 1, 2, 3]}\n    lr: {uniform: 0.1:0.5}\n"
    "run:\n  cmd: echo {{ x }}\n"
)


def _world():
    alice = make_user("alice")
    project = make_project(alice, "demo")
    group = make_group(project, content=grid_yml(3))
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    return alice, project, group, ids


def _report(client, alice, experiment_id, *values):
    headers = auth(make_token(alice))
    for report in values:
        response = client.post(
            f"/api/v1/alice/demo/experiments/{experiment_id}/metrics/",
            json={"values": report},
            headers=headers,
        )
        assert response.status_code == 201


def _page(client, query):
    response = client.get(f"/alice/demo/compare?{query}")
    return response, BeautifulSoup(response.data, "html.parser")


def test_compare_experiments_shows_params_and_metrics_with_differences_highlighted(app, client):
    alice, _, _, ids = _world()
    _report(client, alice, ids[0], {"loss": 0.5, "accuracy": 0.9})
    _report(client, alice, ids[1], {"loss": 0.4, "accuracy": 0.9})
    sign_in(client, "alice")

    response, page = _page(client, f"experiments={ids[0]},{ids[1]}")

    assert response.status_code == 200
    headers = [th.get_text(strip=True) for th in page.select("#compare-params thead th")]
    assert headers == ["Name", f"Experiment {ids[0]}", f"Experiment {ids[1]}"]
    params = {
        tr.th.get_text(" ", strip=True): tr["class"]
        for tr in page.select("#compare-params tbody tr")
    }
    assert params == {"x ≠": ["differs"]}
    metrics = {
        tr.th.get_text(" ", strip=True): tr["class"]
        for tr in page.select("#compare-metrics tbody tr")
    }
    assert metrics == {"accuracy": ["same"], "loss ≠": ["differs"]}
    values = [td.get_text(strip=True) for td in page.select("#compare-metrics tbody tr")[1]("td")]
    assert values == ["0.5", "0.4"]


def test_compare_experiments_draws_one_chart_per_metric_with_a_line_per_experiment(app, client):
    alice, _, _, ids = _world()
    _report(client, alice, ids[0], {"loss": 0.9}, {"loss": 0.5}, {"loss": 0.2})
    _report(client, alice, ids[1], {"loss": 0.8}, {"loss": 0.7})
    sign_in(client, "alice")

    _, page = _page(client, f"experiments={ids[0]},{ids[1]}")

    charts = page.select("#compare-charts figure")
    assert [f.figcaption.get_text(strip=True) for f in charts] == ["loss"]
    lines = charts[0].select("polyline")
    assert [line["data-series"] for line in lines] == [
        f"Experiment {ids[0]}",
        f"Experiment {ids[1]}",
    ]
    assert [line["stroke"] for line in lines] == [colour(0), colour(1)]
    assert [len(line["points"].split()) for line in lines] == [3, 2]
    legend = [li.get_text(" ", strip=True) for li in page.select("#compare-legend li")]
    assert legend[0].startswith(f"Experiment {ids[0]}")
    # Each line opens its experiment, titled with what it shows.
    marks = charts[0].select("a.mark")
    assert [int(a["data-experiment"]) for a in marks] == ids[:2]
    assert marks[0]["href"].endswith(f"/experiments/{ids[0]}/")
    assert marks[0].title.get_text() == f"experiment {ids[0]}: loss 0.2 at report 3"


def test_ids_outside_the_project_are_404_naming_them(app, client):
    alice, _, _, ids = _world()
    other = make_group(make_project(alice, "other"), content=grid_yml(1))
    stranger = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == other.id)
    ).one()
    sign_in(client, "alice")

    response, page = _page(client, f"experiments={ids[0]},{stranger},99999")

    assert response.status_code == 404
    assert f"No experiments {stranger}, 99999 in this project." in page.get_text()


def test_more_than_twenty_ids_are_refused(app, client):
    _world()
    sign_in(client, "alice")

    response, page = _page(client, "experiments=" + ",".join(str(i) for i in range(1, 22)))

    assert response.status_code == 400
    assert "At most 20 experiments can be compared at once (21)." in page.get_text()


@pytest.mark.parametrize("query", ["experiments=1,x", "experiments=", ""])
def test_malformed_or_missing_ids_are_400(app, client, query):
    _world()
    sign_in(client, "alice")

    response, _ = _page(client, query)

    assert response.status_code == 400


def test_compare_groups_diffs_specs_counts_and_best_shared_metric(app, client):
    alice, project, grid, grid_ids = _world()
    random = make_group(project, content=RANDOM_2)
    random_ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == random.id).order_by(Experiment.id)
    ).all()
    _report(client, alice, grid_ids[0], {"loss": 0.5})
    _report(client, alice, grid_ids[1], {"loss": 0.3})
    _report(client, alice, random_ids[0], {"loss": 0.25, "accuracy": 0.7})
    sign_in(client, "alice")

    response, page = _page(client, f"groups={grid.id},{random.id}")

    assert response.status_code == 200

    def table(section):
        return {
            tr.th.get_text(" ", strip=True).rstrip(" ≠"): [
                td.get_text(strip=True) for td in tr("td")
            ]
            for tr in page.select(f"#{section} tbody tr")
        }

    spec = table("compare-spec")
    assert spec["algorithm"] == ["grid", "random"]
    assert spec["concurrency"] == ["2", "4"]
    assert spec["matrix.x"] == ["values: 0, 1, 2", "values: 0, 1, 2, 3"]
    assert spec["matrix.lr"] == ["—", "uniform: low=0.1, high=0.5"]
    assert spec["random_search.n_experiments"] == ["—", "2"]
    assert table("compare-counts") == {"created": ["3", "2"], "total": ["3", "2"]}
    assert table("compare-best") == {"loss (minimize)": ["0.3", "0.25"]}


def test_groups_of_another_project_are_404(app, client):
    alice, _, group, _ = _world()
    other = make_group(make_project(alice, "other"), content=grid_yml(1))
    sign_in(client, "alice")

    response, page = _page(client, f"groups={group.id},{other.id}")

    assert response.status_code == 404
    assert f"No groups {other.id} in this project." in page.get_text()


def test_group_page_has_a_compare_form_that_gets_the_compare_page(app, client):
    _, _, group, _ = _world()
    sign_in(client, "alice")

    page = BeautifulSoup(client.get(f"/alice/demo/groups/{group.id}/").data, "html.parser")

    form = page.select_one("#group-compare form")
    assert form["method"] == "get" and form["action"] == "/alice/demo/compare"
    assert form.select_one("input")["name"] == "experiments"


def test_report_lines_scale_every_series_into_the_plot():
    svg = report_lines("loss", [("a", [1.0, 2.0, 3.0], 1), ("b", [], 2), ("c", [2.0], 3)])

    soup = BeautifulSoup(str(svg), "html.parser")
    assert soup.title.get_text() == "loss"
    (line,) = soup.select("polyline")
    points = [tuple(map(float, p.split(","))) for p in line["points"].split()]
    assert points[0][1] > points[-1][1]  # higher values are drawn higher
    assert soup.select_one("circle")["fill"] == colour(2)  # b keeps its colour slot
    assert report_lines("empty", [("a", [], 1)]) == ""


def test_flat_series_get_a_padded_range_and_round_ticks():
    assert widen(2.0, 2.0) == (1.8, 2.2)
    assert tick_labels(nice_ticks(2.0, 2.0)) == ["1.8", "1.9", "2.0", "2.1", "2.2"]
    assert tick_labels(nice_ticks(0.4, 2.6)) == ["0.5", "1.0", "1.5", "2.0", "2.5"]
    # Report numbers are counted: whole ticks only, never 1.5.
    assert tick_labels(nice_ticks(1, 3, 6, whole=True)) == ["1", "2", "3"]
