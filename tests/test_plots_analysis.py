"""The analysis plots: learning curves, contour and edf (JSON and SVG), and the links and titles
on every mark that stands for experiments."""

import pytest
from sqlalchemy import insert, select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentMetric
from dashboard.services.plots.plot_analysis import downsample
from tests.factories import alice_group, auth, finish, grid_yml, make_token, report_metric
from tests.support.web import HTMX, sign_in, soup, url

API = "/api/v1/alice/demo/groups"
GRID_2D = (
    "version: 1\nkind: group\nhptuning:\n  matrix:\n    lr: {values: [0.1, 0.01, 0.001]}\n"
    "    act: {values: [relu, tanh]}\nrun:\n  cmd: echo\n"
)
CONTINUOUS = (
    "version: 1\nkind: group\nhptuning:\n  matrix:\n    lr: {loguniform: [-9, -1]}\n"
    "    dropout: {uniform: [0, 1]}\n  random_search: {n_experiments: 60}\nrun:\n  cmd: echo\n"
)


def api_plot(client, group, name, query=""):
    return client.get(
        f"{API}/{group.id}/plots/{name}/{query}", headers=auth(make_token(group.user))
    )


def experiment_ids(group):
    return db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def histories(curves):
    """Store each experiment's reports of loss, as the metrics endpoint does: {id: [values]}."""
    for experiment_id, values in curves.items():
        db.session.execute(
            insert(ExperimentMetric),
            [
                {"experiment_id": experiment_id, "values": {"loss": v, "step": i}}
                for i, v in enumerate(values)
            ],
        )
        report_metric(experiment_id, "loss", values[-1])
    db.session.commit()


def minimize(group):
    group.objective = {"metric": "loss", "optimization": "minimize"}
    db.session.commit()


def test_curves_hold_every_experiments_reports_with_the_best_first(client):
    _, _, group = alice_group(grid_yml(3))
    minimize(group)
    a, b, c = experiment_ids(group)
    histories({a: [0.9, 0.7, 0.5], b: [0.8, 0.3], c: [1.0, 0.6, 0.4, 0.45]})

    data = api_plot(client, group, "curves").json

    assert (data["metric"], data["drawn"], data["total"]) == ("loss", 3, 3)
    assert [(e["id"], e["best"]) for e in data["experiments"]] == [
        (b, True),
        (c, False),
        (a, False),
    ]
    assert data["experiments"][0]["points"] == [[1, 0.8], [2, 0.3]]
    assert data["experiments"][1]["points"] == [[1, 1.0], [2, 0.6], [3, 0.4], [4, 0.45]]


def test_curves_draw_the_50_best_then_the_same_seeded_sample_on_every_read(client):
    _, _, group = alice_group(grid_yml(260))
    minimize(group)
    ids = experiment_ids(group)
    histories({eid: [1.0, index / 1000] for index, eid in enumerate(ids)})

    first = api_plot(client, group, "curves").json
    drawn = [e["id"] for e in first["experiments"]]

    assert (first["drawn"], first["total"]) == (200, 260)
    assert drawn[:50] == ids[:50]  # the lowest losses, best first
    assert set(drawn[50:]) <= set(ids[50:]) and len(set(drawn)) == 200
    assert drawn[50:] != sorted(drawn[50:])  # a sample, not the next 150 by id
    db.session.expire_all()
    assert [e["id"] for e in api_plot(client, group, "curves").json["experiments"]] == drawn


def test_a_long_history_keeps_its_first_last_lowest_and_highest_points():
    points = [[n, (n * 37) % 101 / 100] for n in range(1, 1001)]
    points[500][1], points[700][1] = -5.0, 9.0
    kept = downsample(points)
    assert len(kept) == 200
    assert kept[0] == points[0] and kept[-1] == points[-1]
    assert [501, -5.0] in kept and [701, 9.0] in kept
    assert [p[0] for p in kept] == sorted(p[0] for p in kept)


def test_edf_is_the_sorted_values_and_their_fractions(client):
    _, _, group = alice_group(grid_yml(4))
    finish(group, lambda i, p: [0.4, 0.1, 0.3, 0.2][i])

    data = api_plot(client, group, "edf").json

    assert data["values"] == [0.1, 0.2, 0.3, 0.4]
    assert data["fractions"] == [0.25, 0.5, 0.75, 1.0]
    assert data["total"] == 4


def test_edf_of_many_values_is_1000_quantiles_from_the_lowest_to_the_highest(client):
    _, _, group = alice_group(grid_yml(2500))
    finish(group, lambda i, p: (i * 7919) % 2500 / 10)

    data = api_plot(client, group, "edf").json

    assert data["total"] == 2500 and len(data["values"]) == 1000
    assert (data["values"][0], data["values"][-1]) == (0.0, 249.9)
    assert data["values"] == sorted(data["values"]) and data["fractions"][-1] == 1.0
    assert all(
        abs(v - (f * 2500 - 1) / 10) < 1e-9
        for v, f in zip(data["values"], data["fractions"], strict=True)
    )


def test_contour_of_two_discrete_params_holds_the_best_and_count_per_cell(client):
    _, _, group = alice_group(GRID_2D)
    minimize(group)
    ids = finish(group, lambda i, p: p["lr"] * (2 if p["act"] == "tanh" else 1))

    data = api_plot(client, group, "contour", "?x=lr&y=act").json

    assert data["x"] == {"name": "lr", "log": False, "values": [0.001, 0.01, 0.1]}
    assert data["y"] == {"name": "act", "log": False, "values": ["relu", "tanh"]}
    assert len(data["cells"]) == 6 and all(cell[3] == 1 for cell in data["cells"])
    by_cell = {(i, j): best for i, j, best, _ in data["cells"]}
    assert by_cell[(0, 0)] == 0.001 and by_cell[(2, 1)] == 0.2
    assert set(data["cell_experiments"]) == set(ids)
    assert data["choices"] == ["lr", "act"]


def test_contour_bins_continuous_params_in_at_most_20_bins_log_ones_in_log_space(client):
    _, _, group = alice_group(CONTINUOUS)
    finish(group, lambda i, p: p["dropout"])

    data = api_plot(client, group, "contour", "?x=lr&y=dropout").json

    assert data["x"]["log"] is True and len(data["x"]["edges"]) == 21
    ratios = [
        b / a for a, b in zip(data["x"]["edges"][1:-2], data["x"]["edges"][2:-1], strict=True)
    ]
    assert max(ratios) - min(ratios) < 1e-6  # equal steps of the log
    assert data["y"]["log"] is False and len(data["y"]["edges"]) == 21
    assert sum(cell[3] for cell in data["cells"]) == 60
    assert all(0 <= i < 20 and 0 <= j < 20 for i, j, _, _ in data["cells"])


def test_contour_defaults_to_the_two_most_important_params(client):
    _, _, group = alice_group(
        GRID_2D.replace("    act:", "    depth: {values: [1, 2, 3]}\n    act:")
    )
    finish(group, lambda i, p: p["depth"] * 10 + (p["act"] == "tanh"))

    data = api_plot(client, group, "contour").json
    ranked = [f["name"] for f in api_plot(client, group, "importance").json["features"]]

    assert [data["x"]["name"], data["y"]["name"]] == ranked[:2]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?x=nope", "'nope' is not a param of this group's experiments; the params are: lr, act."),
        ("?x=lr&y=lr", "x and y must be two different params."),
    ],
)
def test_contour_of_an_unknown_or_repeated_param_is_a_400(client, query, message):
    _, _, group = alice_group(GRID_2D)
    finish(group)
    response = api_plot(client, group, "contour", query)
    assert response.status_code == 400
    assert message in str(response.json)


def test_every_mark_that_stands_for_experiments_links_it_with_a_title(client):
    _, _, group = alice_group(GRID_2D)
    minimize(group)
    ids = experiment_ids(group)
    histories({eid: [1.0, 0.5 + index / 10] for index, eid in enumerate(ids)})
    sign_in(client, "alice")

    page = soup(client.get(url(group, "plots"), headers=HTMX))

    for name in ("metric", "curves", "parallel", "scatter", "contour"):
        links = page.select(f"#plot-{name} svg a.mark")
        assert links, name
        for link in links:
            experiment = int(link["data-experiment"])
            assert experiment in ids
            assert link["href"] == url(group, f"experiments/{experiment}/")
            assert link.select_one("title").text.startswith(f"experiment {experiment}")
    parallel_title = page.select_one("#plot-parallel svg a.mark title").text
    assert "lr " in parallel_title and "act " in parallel_title and "loss " in parallel_title
    assert page.select_one("#plot-edf svg[role=img] desc").text.startswith("loss of 6 experiments")


def test_the_page_chooses_the_contours_pair(client):
    _, _, group = alice_group(GRID_2D)
    finish(group)
    sign_in(client, "alice")

    page = soup(client.get(url(group, "plots?x=act&y=lr"), headers=HTMX))

    form = page.select_one("#contour-pair")
    assert form.select_one("select[name=x] option[selected]")["value"] == "act"
    assert form.select_one("select[name=y] option[selected]")["value"] == "lr"
    assert "contour of loss over act and lr" in page.select_one("#plot-contour svg")["aria-label"]
    bad = soup(client.get(url(group, "plots?x=nope"), headers=HTMX))
    assert "'nope' is not a param" in bad.select_one("#plot-contour .plot-message").text
