"""Parallel coordinates' axis ranges: each is a condition of the table's filter language that
the experiments table applies, added to its filter (htmx) or as its filter (a plain link)."""

from dashboard.services.experiment.experiment_table import with_condition
from dashboard.ui.pages.axis_filters import axis_filters, numeric_ranges
from tests.factories import alice_group, finish
from tests.support.web import HTMX, sign_in, soup, url

GRID = (
    "version: 1\nkind: group\nhptuning:\n  matrix:\n    lr: {linspace: [0, 1, 9]}\n"
    "    act: {values: [relu, tanh]}\nrun:\n  cmd: echo\n"
)


def rows(page):
    return [int(tr["data-id"]) for tr in page.select("#group-experiments tbody tr[data-id]")]


def test_a_numeric_axis_is_cut_in_four_ranges_that_cover_every_value_once():
    values = [0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0]
    ranges = numeric_ranges("params.lr", values)
    assert ranges == [
        ("< 0.25", "params.lr:<0.25"),
        ("0.25 – 0.5", "params.lr:>=0.25,params.lr:<0.5"),
        ("0.5 – 0.75", "params.lr:>=0.5,params.lr:<0.75"),
        ("≥ 0.75", "params.lr:>=0.75"),
    ]


def test_few_values_are_offered_one_by_one_and_unspellable_categories_not_at_all():
    assert numeric_ranges("params.depth", [1, 2, 2, 3]) == [
        ("1", "params.depth:1"),
        ("2", "params.depth:2"),
        ("3", "params.depth:3"),
    ]
    data = {
        "metric": "loss",
        "axes": [{"name": "act", "kind": "categorical", "categories": ["relu", "a,b", "x|y"]}],
        "lines": [{"experiment": 1, "value": 0.5, "params": {"act": "relu"}}],
    }
    assert axis_filters(data) == [
        {"name": "act", "ranges": [("relu", "params.act:relu")]},
        {"name": "loss", "ranges": [("0.5", "metric.loss:0.5")]},
    ]


def test_a_condition_is_added_to_the_filter_once():
    assert with_condition(None, "params.act:relu") == "params.act:relu"
    assert with_condition("status:succeeded", "params.act:relu") == (
        "status:succeeded,params.act:relu"
    )
    assert with_condition("params.act:relu", "params.act:relu") == "params.act:relu"
    assert with_condition(" ", None) is None


def test_each_range_link_filters_the_table_as_it_says(client):
    _, _, group = alice_group(GRID)
    finish(group, lambda i, p: p["lr"] + (p["act"] == "tanh"))
    sign_in(client, "alice")
    plots = soup(client.get(url(group, "plots"), headers=HTMX))
    links = plots.select("#parallel-filters a[data-condition]")
    conditions = [a["data-condition"] for a in links]
    assert "params.act:relu" in conditions and "params.lr:>=0.75" in conditions

    relu = next(a for a in links if a["data-condition"] == "params.act:relu")
    page = soup(client.get(relu["href"]))  # without JavaScript: the group page, filtered
    assert len(rows(page)) == 9
    assert page.select_one("#table-query")["value"] == "params.act:relu"

    # htmx: the condition joins the table's filter, and the browser's URL follows
    response = client.get(
        url(group, "experiments?query=params.lr:>=0.75&and=params.act:relu"), headers=HTMX
    )
    assert len(rows(soup(response))) == 3  # lr 0.75, 0.875, 1.0 with relu
    assert response.headers["HX-Push-Url"].endswith(
        "?query=params.lr%3A%3E%3D0.75%2Cparams.act%3Arelu"
    )
