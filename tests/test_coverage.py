"""The matrix coverage map: cells of discrete params, strips of continuous ones."""

import pytest
from flask import g
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.factories import alice_group
from tests.support.web import HTMX, sign_in, soup, url

GRID_3X4 = (
    "version: 1\nkind: group\nhptuning:\n  matrix:\n    a: {values: [1, 2, 3]}\n"
    "    b: {linspace: 0:1:4}\nrun:\n  cmd: echo\n"
)
RANDOM_MIXED = (
    "version: 1\nkind: group\nhptuning:\n  random_search: {n_experiments: 6}\n"
    "  matrix:\n    lr: {loguniform: -7:-1}\n    act: {values: [relu, tanh, elu]}\n"
    "run:\n  cmd: echo\n"
)


def set_statuses(group, statuses):
    experiments = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    for experiment, status in zip(experiments, statuses, strict=False):
        experiment.status = status
        experiment.last_metric = {"loss": float(experiment.id)}
    db.session.commit()
    return experiments


def coverage(client, group, query=""):
    sign_in(client, "alice")
    return soup(client.get(url(group, "coverage") + query, headers=HTMX))


def test_coverage_of_a_3x4_grid_shows_12_cells_with_their_statuses(client):
    _, _, group = alice_group(GRID_3X4)
    statuses = ["succeeded"] * 5 + ["failed", "running", "stopped"] + ["created"] * 4
    experiments = set_statuses(group, statuses)

    html = coverage(client, group)

    rows = html.select("#group-coverage table.coverage-grid tbody tr")
    cells = html.select("#group-coverage td.coverage-cell")
    assert len(rows) == 3 and len(cells) == 12
    by_params = {(e.params["a"], e.params["b"]): e.status for e in experiments}
    b_values = [0.0, 1 / 3, 2 / 3, 1.0]
    for row, a in zip(rows, (1, 2, 3), strict=True):
        row_cells = row.select("td.coverage-cell")
        for cell, b in zip(row_cells, b_values, strict=True):
            expected = next(
                s for (pa, pb), s in by_params.items() if pa == a and abs(pb - b) < 1e-9
            )
            assert cell["data-status"] == expected
    assert "12 of 12 cells visited" in html.text


def test_unvisited_cells_are_shown(client):
    _, _, group = alice_group(GRID_3X4)
    db.session.execute(
        Experiment.__table__.delete().where(
            Experiment.id.in_(
                select(Experiment.id)
                .where(Experiment.group_id == group.id)
                .limit(2)
                .scalar_subquery()
            )
        )
    )
    db.session.commit()

    html = coverage(client, group)

    assert len(html.select("td.coverage-cell[data-status=unvisited]")) == 2
    assert "10 of 12 cells visited" in html.text


def test_continuous_params_get_a_strip_and_discrete_ones_a_list(client):
    _, _, group = alice_group(RANDOM_MIXED)
    set_statuses(group, ["succeeded"] * 6)

    html = coverage(client, group)

    strip = html.select_one("figure.coverage-strip[data-param=lr]")
    assert strip is not None and len(strip.select("svg line")) == 1 + 6
    assert len(html.select("table.coverage-list td.coverage-cell")) == 3


def test_coverage_can_be_coloured_by_metric(client):
    _, _, group = alice_group(GRID_3X4)
    set_statuses(group, ["succeeded"] * 12)

    html = coverage(client, group, "?colour=metric")

    assert all("background" in cell["style"] for cell in html.select("td.coverage-cell"))


def test_coverage_by_metric_without_an_objective_says_which_metric_it_shades(client):
    _, _, group = alice_group(GRID_3X4)
    set_statuses(group, ["succeeded"] * 12)

    html = coverage(client, group, "?colour=metric")

    assert html.select_one("#coverage-note").text.startswith(
        "No objective set: colouring by loss, darker = higher."
    )


def test_coverage_by_metric_shades_the_objective_best_darkest(client):
    _, _, group = alice_group(GRID_3X4)
    group.objective = {"metric": "loss", "optimization": "minimize"}
    set_statuses(group, ["succeeded"] * 12)  # loss = the experiment's id: the first is best

    html = coverage(client, group, "?colour=metric")

    assert html.select_one("#coverage-note") is None
    cells = html.select("td.coverage-cell")
    lowest = min(cells, key=lambda cell: float(cell.text))
    assert "rgba(36, 86, 201, 1.00)" in lowest["style"]


@pytest.mark.parametrize("size", [10, 200])
def test_coverage_takes_a_constant_number_of_queries(client, count_queries, size):
    content = GRID_3X4.replace("linspace: 0:1:4", f"range: [0, {size // 3 + 1}, 1]")
    _, _, group = alice_group(content)
    sign_in(client, "alice")
    g.pop("_login_user", None)
    db.session.expunge_all()

    with count_queries() as statements:
        response = client.get(url(group, "coverage"), headers=HTMX)

    assert response.status_code == 200
    assert len(statements) <= 4, statements


def test_coverage_shows_values_as_the_matrix_card_does(client):
    _, _, group = alice_group(
        "version: 1\nkind: group\nhptuning:\n  matrix:\n"
        "    lr: {linspace: 0.001:0.1:5}\n    act: {values: [relu, tanh]}\n"
        "    depth: {values: [1, 2]}\nrun:\n  cmd: echo\n"
    )

    text = coverage(client, group).select_one("#group-coverage").text

    assert "0.02575" in text and "0.025750000000000002" not in text
