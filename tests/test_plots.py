"""The group's plots: their JSON data, their SVG, the fragment and its query budget."""

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, ExperimentValue, SearchIteration
from dashboard.services.group import versioned
from dashboard.services.group.objective import Objective, objective_of
from dashboard.services.plots import plot_reads
from dashboard.ui import charts
from dashboard.ui.charts import kit, xy
from tests.factories import EXAMPLES, alice_group, auth, finish, grid_yml, make_token
from tests.support.web import HTMX, sign_in, soup, url

API = "/api/v1/alice/demo/groups"
GRID_2D = (
    "version: 1\nkind: group\nhptuning:\n  matrix:\n    lr: {values: [0.1, 0.01, 0.001]}\n"
    "    act: {values: [relu, tanh]}\n    depth: {values: [1, 2]}\nrun:\n  cmd: echo\n"
)
EARLY_STOPPING = (EXAMPLES / "early_stopping.yml").read_text()


def api_plot(client, group, name, query=""):
    token = make_token(group.user)
    return client.get(f"{API}/{group.id}/plots/{name}/{query}", headers=auth(token))


def test_metric_plot_lists_values_in_completion_order_with_best_so_far(client):
    _, _, group = alice_group(grid_yml(4))
    values = [0.5, 0.3, 0.4, 0.1]
    ids = finish(group, lambda i, p: values[i])

    data = api_plot(client, group, "metric", "?metric=loss").json

    assert [p["experiment"] for p in data["points"]] == ids
    assert [p["value"] for p in data["points"]] == values
    assert (data["total"], data["sampled"]) == (4, False)  # all of them, not a sample
    # No objective: best-so-far assumes maximize (the key stays a number) and says so.
    assert [p["best"] for p in data["points"]] == [0.5, 0.5, 0.5, 0.5]
    assert (data["optimization"], data["optimization_source"]) == ("maximize", "assumed")


def test_group_objective_chooses_the_default_metric_and_its_direction(client):
    _, _, group = alice_group(grid_yml(3))
    finish(group, lambda i, p: [3.0, 1.0, 2.0][i])
    group.objective = {"metric": "loss", "optimization": "minimize"}
    db.session.commit()

    data = api_plot(client, group, "metric").json

    assert (data["metric"], data["optimization"]) == ("loss", "minimize")
    assert (data["optimization_source"], data["note"]) == ("user", None)
    assert [p["best"] for p in data["points"]] == [3.0, 1.0, 1.0]


def test_without_an_objective_the_plots_show_the_first_metric_and_say_so(client):
    _, _, group = alice_group(grid_yml(3))
    finish(group, name="accuracy")

    data = api_plot(client, group, "metric").json

    assert (data["metric"], data["optimization_source"]) == ("accuracy", "assumed")
    assert data["note"] == (
        "No objective set: showing accuracy. "
        "Choose one with “Objective” above the experiments table."
    )


def test_plots_take_the_spec_objective_as_the_objective_box_does(client):
    _, _, group = alice_group(EARLY_STOPPING)
    finish(group, name="loss")

    data = api_plot(client, group, "metric").json

    # The first early-stopping rule (accuracy, maximize), as objective_of says, not "loss".
    assert objective_of(group) == Objective("accuracy", "maximize", "spec")
    assert (data["metric"], data["optimization"], data["optimization_source"]) == (
        "accuracy",
        "maximize",
        "spec",
    )
    assert data["note"] is None


def test_a_metric_other_than_the_objective_keeps_its_spec_rule_direction(client):
    _, _, group = alice_group(EARLY_STOPPING)
    finish(group, lambda i, p: 30.0 - i, name="loss")
    group.objective = {"metric": "accuracy", "optimization": "maximize"}
    db.session.commit()

    data = api_plot(client, group, "metric", "?metric=loss").json

    # The spec stops early on loss, minimizing: that is loss's direction, whatever the objective.
    assert (data["optimization"], data["optimization_source"]) == ("minimize", "spec")
    assert data["points"][-1]["best"] == 1.0


def test_a_metric_with_no_known_direction_is_said_to_be_so(client):
    _, _, group = alice_group(grid_yml(3))
    finish(group, name="f1")
    group.objective = {"metric": "loss", "optimization": "minimize"}
    db.session.commit()

    data = api_plot(client, group, "metric", "?metric=f1").json

    assert data["optimization_source"] == "assumed"
    assert data["note"] == (
        "Showing f1, which is not the objective (loss): which way is better is unknown."
    )


def test_plot_names_are_listed_and_an_unknown_one_is_not_found(client):
    _, _, group = alice_group(grid_yml(2))

    names = "metric curves parallel scatter contour edf hyperband asha bo tpe cmaes importance"
    answer = client.get(f"{API}/{group.id}/plots/", headers=auth(make_token(group.user))).json
    assert answer == {"plots": names.split()}
    assert api_plot(client, group, "pie").status_code == 404


def test_scatter_and_parallel_handle_numeric_and_categorical_params(client):
    _, _, group = alice_group(GRID_2D)
    finish(group, lambda i, p: p["lr"] * 10 + (1 if p["act"] == "relu" else 0))

    scatter = api_plot(client, group, "scatter").json
    parallel = api_plot(client, group, "parallel").json

    kinds = {p["name"]: p["kind"] for p in scatter["params"]}
    assert kinds == {"lr": "numeric", "act": "categorical", "depth": "numeric"}
    act = next(p for p in scatter["params"] if p["name"] == "act")
    assert act["categories"] == ["relu", "tanh"]
    assert len(parallel["lines"]) == 12
    assert [a["name"] for a in parallel["axes"]] == ["lr", "act", "depth"]


def test_a_param_past_64_bits_is_still_sent(client):
    """Plot data goes out through orjson, which refuses integers past 64 bits: json sends it."""
    _, _, group = alice_group(
        "version: 1\nkind: group\nhptuning:\n  matrix:\n"
        "    x: {values: [1, 100000000000000000000]}\nrun:\n  cmd: echo\n"
    )
    finish(group)

    response = api_plot(client, group, "parallel")

    assert response.status_code == 200
    assert [line["params"]["x"] for line in response.json["lines"]] == [1, 10**20]


def test_importance_needs_five_finished_experiments(client):
    _, _, group = alice_group(grid_yml(4))
    finish(group)

    data = api_plot(client, group, "importance").json

    assert data["applicable"] is False
    assert "at least 5 finished experiments" in data["message"]


def test_importance_ranks_the_param_that_drives_the_metric_first(client):
    _, _, group = alice_group(GRID_2D)
    finish(group, lambda i, p: {"relu": 1.0, "tanh": 5.0}[p["act"]] + p["depth"] * 0.01)

    data = api_plot(client, group, "importance").json

    assert data["features"][0]["name"] == "act"
    assert "Permutation importance" in data["method"] and "random forest" in data["method"]


def test_hyperband_plot_counts_configs_and_promotions_per_rung(client):
    _, _, group = alice_group(grid_yml(4))
    group.search_algorithm = "hyperband"
    db.session.add_all(
        [
            SearchIteration(
                group_id=group.id,
                number=0,
                data={"bracket": 1, "rung": 0, "resource": 3, "n_configs": 3},
            ),
            SearchIteration(
                group_id=group.id,
                number=1,
                data={"bracket": 1, "rung": 1, "resource": 9, "n_configs": 1},
            ),
        ]
    )
    ids = finish(group)
    db.session.execute(update(Experiment).where(Experiment.id.in_(ids[:3])).values(iteration=0))
    # The rung-1 experiment reruns the first config with more resource.
    db.session.execute(
        update(Experiment).where(Experiment.id == ids[3]).values(iteration=1, params={"x": 0})
    )
    db.session.commit()

    rungs = api_plot(client, group, "hyperband").json["brackets"][0]["rungs"]

    assert [(r["rung"], r["n_configs"], r["experiments"]) for r in rungs] == [(0, 3, 3), (1, 1, 1)]
    assert rungs[1]["promoted"] == 1


def test_bo_plot_orders_suggestions_by_iteration(client):
    _, _, group = alice_group(grid_yml(3))
    group.search_algorithm = "bo"
    db.session.add_all(
        [
            SearchIteration(group_id=group.id, number=0, data={"kind": "initial"}),
            SearchIteration(group_id=group.id, number=1, data={"kind": "gp"}),
        ]
    )
    ids = finish(group)
    for experiment_id, iteration in zip(ids, (1, 0, 0), strict=True):
        db.session.execute(
            update(Experiment).where(Experiment.id == experiment_id).values(iteration=iteration)
        )
    db.session.commit()

    points = api_plot(client, group, "bo").json["points"]

    assert [(p["experiment"], p["kind"]) for p in points] == [
        (ids[1], "initial"),
        (ids[2], "initial"),
        (ids[0], "gp"),
    ]


def test_hyperband_plot_of_a_grid_group_says_it_does_not_apply(client):
    _, _, group = alice_group(grid_yml(2))

    data = api_plot(client, group, "hyperband").json

    assert data["applicable"] is False and "hyperband groups" in data["message"]


def test_group_page_loads_plots_and_coverage_as_fragments(client):
    _, _, group = alice_group(grid_yml(3))
    sign_in(client, "alice")

    page = soup(client.get(url(group)))

    assert page.select_one("#group-plots")["hx-get"] == url(group, "plots")
    assert page.select_one("#group-plots")["hx-trigger"] == "load"
    assert page.select_one("#group-coverage")["hx-get"] == url(group, "coverage")


def test_plots_fragment_draws_svg_charts(client):
    _, _, group = alice_group(GRID_2D)
    finish(group)
    group.objective = {"metric": "loss", "optimization": "minimize"}
    db.session.commit()
    sign_in(client, "alice")

    fragment = soup(client.get(url(group, "plots"), headers=HTMX))

    best = fragment.select_one("#group-plots #plot-metric svg polyline")
    assert best["data-series"] == "best so far (minimize)"
    assert fragment.select_one(".plot-direction").text == "(minimize)"
    assert fragment.select_one("#plots-note") is None
    assert fragment.select_one("#plot-parallel svg")
    assert len(fragment.select("#plot-scatter svg")) == 3
    assert fragment.select_one("#plot-importance svg")
    assert not fragment.select("#plot-hyperband")  # only for hyperband groups


def test_plots_fragment_without_an_objective_says_so_and_draws_no_best_so_far(client):
    _, _, group = alice_group(GRID_2D)
    finish(group, name="accuracy")
    sign_in(client, "alice")

    fragment = soup(client.get(url(group, "plots"), headers=HTMX))

    assert fragment.select_one("#plots-note").text.startswith("No objective set: showing accuracy.")
    assert fragment.select_one(".plot-metric option[selected]").text == "accuracy"
    assert "unknown" in fragment.select_one(".plot-direction").text
    assert fragment.select("#plot-metric svg circle")  # the values are drawn
    assert not fragment.select("#plot-metric svg polyline")  # but no best-so-far line
    assert "blue = highest accuracy" in fragment.select_one("#plot-parallel svg").text


def test_the_objective_box_and_the_plots_agree_there_is_no_objective(client):
    _, _, group = alice_group(GRID_2D)
    finish(group, name="accuracy")
    sign_in(client, "alice")

    box = soup(client.get(url(group))).select_one("#group-best")
    plots = soup(client.get(url(group, "plots"), headers=HTMX))

    assert "No objective" in box.text
    assert "No objective set" in plots.select_one("#plots-note").text


@pytest.mark.parametrize("fragment", ["plots", "coverage"])
def test_fragments_refresh_while_the_group_runs_and_stop_once_it_is_final(client, fragment):
    _, _, group = alice_group(GRID_2D)
    sign_in(client, "alice")

    live = soup(client.get(url(group, fragment) + "?metric=loss&colour=metric", headers=HTMX))
    section = live.select_one(f"#group-{fragment}")
    assert section["hx-trigger"] == "every 10s" and "updates every 10 s" in section.text
    # The refresh keeps what the user chose: the plots' metric, the map's colouring.
    kept = "metric=loss" if fragment == "plots" else "colour=metric"
    assert section["hx-get"].startswith(url(group, fragment)) and kept in section["hx-get"]

    finish(group)
    db.session.execute(
        update(ExperimentGroup).where(ExperimentGroup.id == group.id).values(status="succeeded")
    )
    db.session.commit()
    final = soup(client.get(url(group, fragment), headers=HTMX)).select_one(f"#group-{fragment}")
    assert not final.has_attr("hx-trigger") and "updates every" not in final.text


def test_svg_escapes_labels():
    chart = xy.xy_chart(
        [{"label": "<b>", "points": [(1, 2), (2, 3)]}, {"label": "x&y", "points": [(1, 1)]}],
        x_label="<i>step</i>",
        y_label="v",
        title='t"',
    )

    assert "<b>" not in chart and "&lt;b&gt;" in chart and "&lt;i&gt;" in chart
    assert "x&amp;y" in chart


def test_svg_draws_at_most_2000_points_of_10000():
    data = {
        "metric": "loss",
        "optimization": "minimize",
        "points": [{"experiment": i, "order": i, "value": i % 97, "best": 0} for i in range(10000)],
    }

    chart = charts.metric_chart(data)

    assert chart.count("<circle") <= 2000
    assert "drawing 2,000 of 10,000" in chart


@pytest.mark.parametrize("size", [10, 200])
def test_plots_fragment_takes_a_constant_number_of_queries(client, count_queries, size):
    _, _, group = alice_group(
        GRID_2D.replace("depth: {values: [1, 2]}", f"depth: {{range: [0, {size // 6 + 1}, 1]}}")
    )
    finish(group)
    sign_in(client, "alice")
    g.pop("_login_user", None)
    db.session.expunge_all()

    with count_queries() as statements:
        response = client.get(url(group, "plots"), headers=HTMX)

    assert response.status_code == 200
    # The user, the project, the group, its version and metric names, the sample, the
    # curves' experiments and their reports, the edf's quantiles.
    assert len(statements) <= 8, statements


def test_plots_asked_again_at_the_same_version_are_not_worked_out_again(client, count_queries):
    _, _, group = alice_group(GRID_2D)
    finish(group)
    sign_in(client, "alice")
    first = client.get(url(group, "plots"), headers=HTMX)
    g.pop("_login_user", None)

    with count_queries() as statements:
        again = client.get(url(group, "plots"), headers=HTMX)

    assert again.data == first.data
    assert len(statements) <= 4, statements
    assert not [s for s in statements if "row_number" in s.lower()]  # no sample read


def test_a_new_metric_value_shows_at_once(client):
    _, _, group = alice_group(grid_yml(3))
    ids = finish(group, lambda i, p: [0.5, 0.3, 0.4][i])
    assert [p["value"] for p in api_plot(client, group, "metric").json["points"]] == [0.5, 0.3, 0.4]

    # A report changes the experiment's row: the group's version moves on.
    experiment = db.session.get(Experiment, ids[1])
    experiment.last_metric = {"loss": 0.9}
    db.session.get(ExperimentValue, (ids[1], "metric", "loss")).num_value = 0.9
    db.session.commit()

    assert [p["value"] for p in api_plot(client, group, "metric").json["points"]] == [0.5, 0.9, 0.4]


CYCLE = [16, 32, 64, 128, 256]


def cycle_grid(slow):
    """A grid whose experiments, in id order, cycle through the five values of `c`."""
    values = ", ".join(str(i) for i in range(slow))
    return (
        "version: 1\nkind: group\nhptuning:\n  matrix:\n"
        f"    x: {{values: [{values}]}}\n    c: {{values: {CYCLE}}}\nrun:\n  cmd: echo\n"
    )


def test_a_large_groups_plots_send_one_experiment_per_stretch_of_the_completion_order(
    client, monkeypatch
):
    """Past the sample size (20 here, 2,000 in use): the metric, parallel and scatter plots
    send the same sample, one experiment from each of 20 equal stretches of the completion
    order and the last one, with its exact order and best so far, and say of how many."""
    monkeypatch.setattr(plot_reads, "SAMPLE_SIZE", 20)
    _, _, group = alice_group(cycle_grid(20))
    # Every seventh experiment has no value: it has no place in the order.
    loss = [None if i % 7 == 3 else (i * 37 % 101) / 100 for i in range(100)]
    ids = finish(group, lambda i, p: loss[i])
    scored = [(i, v) for i, v in zip(ids, loss, strict=True) if v is not None]

    points = api_plot(client, group, "metric").json
    parallel = api_plot(client, group, "parallel").json
    scatter = api_plot(client, group, "scatter").json

    n = len(scored)
    assert (points["total"], points["sampled"], len(points["points"])) == (n, True, 20)
    orders = [p["order"] for p in points["points"]]
    stretches = [(-(-i * n // 20), -(-(i + 1) * n // 20)) for i in range(20)]
    assert [sum(start < order <= end for order in orders) for start, end in stretches] == [1] * 20
    assert orders[-1] == n  # the last experiment always
    for p in points["points"]:
        assert (p["experiment"], p["value"]) == scored[p["order"] - 1]
        assert p["best"] == max(v for _, v in scored[: p["order"]])  # maximize (assumed)
    sample = [p["experiment"] for p in points["points"]]
    assert [line["experiment"] for line in parallel["lines"]] == sample
    assert all([p["experiment"] for p in param["points"]] == sample for param in scatter["params"])
    assert (parallel["total"], scatter["total"], scatter["sampled"]) == (n, n, True)
    # Worked out afresh, the sample is the same: no flicker between polls.
    versioned.answers.clear()
    assert api_plot(client, group, "metric").json == points


def test_a_sample_of_a_grid_holds_each_value_of_its_fastest_param_about_as_often(
    client, monkeypatch
):
    """200 experiments cycling through 5 values of c, sampled to 40 (stretches of 5): every
    fifth experiment would hold one value of c only; the sample holds each about 8 times."""
    monkeypatch.setattr(plot_reads, "SAMPLE_SIZE", 40)
    _, _, group = alice_group(cycle_grid(40))
    finish(group, lambda i, p: i / 200)
    experiments = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    assert [experiment.params["c"] for experiment in experiments[:5]] == CYCLE

    lines = api_plot(client, group, "parallel").json["lines"]

    drawn = [line["params"]["c"] for line in lines]
    assert len(drawn) == 40
    assert all(6 <= drawn.count(value) <= 10 for value in CYCLE), drawn


def test_a_sampled_plot_says_of_how_many_it_draws():
    points = [{"experiment": n, "order": n * 5 + 1, "value": n % 7, "best": 6} for n in range(2000)]
    data = {
        "metric": "loss",
        "optimization": "minimize",
        "optimization_source": "user",
        "points": points,
        "total": 10000,
        "sampled": True,
    }
    lines = [{"experiment": n, "value": n % 7, "params": {"lr": n}} for n in range(2000)]
    parallel = {
        "metric": "loss",
        "optimization": "minimize",
        "optimization_source": "user",
        "axes": [{"name": "lr", "kind": "numeric", "min": 0, "max": 1999}],
        "lines": lines,
        "total": 10000,
        "sampled": True,
    }
    scatter = {
        "name": "lr",
        "kind": "numeric",
        "min": 0,
        "max": 1999,
        "points": [{"experiment": n, "x": n, "value": n % 7} for n in range(2000)],
    }

    assert "drawing 2,000 of 10,000 (evenly sampled)" in charts.metric_chart(data)
    assert "drawing 1,000 of 10,000 (evenly sampled)" in charts.parallel_chart(parallel)
    assert "drawing 2,000 of 10,000 (evenly sampled)" in charts.scatter_chart(
        scatter, "loss", total=10000
    )


def test_a_sampled_charts_note_has_its_own_line_under_the_axis_label():
    """The metric chart (wide) and a param's scatter (narrow) of 5,000 points: the note saying
    how many are drawn sits under the x axis's label, not on it, inside the picture."""
    points = [{"experiment": n + 1, "order": n, "value": n % 7, "best": 6} for n in range(5000)]
    scatter = {
        "name": "lr",
        "kind": "numeric",
        "points": [{"experiment": n + 1, "x": n / 5000, "value": n % 7} for n in range(5000)],
    }
    for chart in (
        charts.metric_chart(
            {
                "points": points,
                "metric": "loss",
                "optimization": "minimize",
                "optimization_source": "user",
            }
        ),
        charts.scatter_chart(scatter, "loss"),
    ):
        chart = BeautifulSoup(chart, "html.parser")
        note, label = chart.select_one("text.chart-note"), chart.select("text.axis-label")[0]
        assert note.text == "drawing 2,000 of 5,000 (evenly sampled)"
        # Text of size 10 under text of size 12: baselines at least 12 apart, both inside.
        assert float(label["y"]) + 12 <= float(note["y"]) <= float(chart.svg["viewbox"].split()[3])


def test_sampling_a_grid_keeps_every_value_of_its_fastest_param():
    """10,000 experiments of a grid whose last param cycles through 5 values: the 2,000
    drawn hold each value about as often (every 5th experiment would hold one value only)."""
    cycle = [16, 32, 64, 128, 256]
    drawn = kit.thin([cycle[n % 5] for n in range(10000)])
    assert len(drawn) == kit.MAX_DRAWN
    assert all(300 <= drawn.count(value) <= 500 for value in cycle), {
        value: drawn.count(value) for value in cycle
    }
    assert kit.thin(list(range(10000))) == sorted(kit.thin(list(range(10000))))  # in order
    assert kit.thin(list(range(10000)))[-1] == 9999
