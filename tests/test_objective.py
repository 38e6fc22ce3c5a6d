"""A group's objective (from the spec or chosen by a user) and its best experiment."""

from urllib.parse import parse_qs

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup
from dashboard.services.group.objective import (
    Objective,
    best_experiment,
    direction_of,
    objective_of,
)
from tests.factories import EXAMPLES, alice_group, auth, grid_yml, make_token, report_metric
from tests.support.web import HTMX, csrf_of, sign_in, signed_in_as, soup, url


def ids_of(group):
    return db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def api_url(group):
    return f"/api/v1/alice/demo/groups/{group.id}/objective/"


def test_objective_of_hyperband_is_its_metric(app):
    _, _, group = alice_group((EXAMPLES / "hyperband.yml").read_text())
    assert objective_of(group) == Objective("loss", "minimize", "spec")


def test_objective_of_bo_is_its_metric(app):
    _, _, group = alice_group((EXAMPLES / "bo.yml").read_text())
    assert objective_of(group) == Objective("accuracy", "maximize", "spec")


def test_objective_falls_back_to_the_first_early_stopping_rule(app):
    _, _, group = alice_group((EXAMPLES / "early_stopping.yml").read_text())
    assert objective_of(group) == Objective("accuracy", "maximize", "spec")


def test_direction_of_a_metric_is_the_objective_s_else_a_spec_rule_s_else_unknown(app):
    _, _, group = alice_group((EXAMPLES / "early_stopping.yml").read_text())
    group.objective = {"metric": "f1", "optimization": "minimize"}

    assert direction_of(group, "f1") == Objective("f1", "minimize", "user")
    assert direction_of(group, "loss") == Objective("loss", "minimize", "spec")
    assert direction_of(group, "recall") is None


def test_a_group_without_metric_in_its_spec_has_no_objective_and_no_best(app):
    _, _, group = alice_group(grid_yml(3))
    report_metric(ids_of(group)[0], "loss", 0.5)
    assert objective_of(group) is None
    assert best_experiment(group, None) is None


def test_best_is_the_lowest_value_when_minimizing_and_the_highest_when_maximizing(app):
    _, _, group = alice_group(grid_yml(5))
    ids = ids_of(group)
    for experiment_id, loss in zip(ids[:4], (10, 9, 2.5, 30), strict=True):
        report_metric(experiment_id, "loss", loss)
    low = best_experiment(group, Objective("loss", "minimize", "user"))
    high = best_experiment(group, Objective("loss", "maximize", "user"))
    assert (low.id, low.value) == (ids[2], 2.5)
    assert (high.id, high.value) == (ids[3], 30)


def test_best_breaks_ties_by_the_lowest_id(app):
    _, _, group = alice_group(grid_yml(4))
    ids = ids_of(group)
    for experiment_id in reversed(ids[1:]):
        report_metric(experiment_id, "acc", 0.9)
    assert best_experiment(group, Objective("acc", "maximize", "user")).id == ids[1]
    assert best_experiment(group, Objective("acc", "minimize", "user")).id == ids[1]


def test_best_takes_one_query(app, count_queries):
    _, _, group = alice_group(grid_yml(3))
    report_metric(ids_of(group)[0], "loss", 0.5)
    with count_queries() as statements:
        best_experiment(group, Objective("loss", "minimize", "user"))
    assert len(statements) == 1


def test_api_get_objective_answers_the_spec_objective(client):
    alice, _, group = alice_group((EXAMPLES / "hyperband.yml").read_text())
    response = client.get(api_url(group), headers=auth(make_token(alice)))
    assert response.status_code == 200
    assert response.json == {"metric": "loss", "optimization": "minimize", "source": "spec"}


def test_api_get_objective_is_null_without_one(client):
    alice, _, group = alice_group(grid_yml(2))
    response = client.get(api_url(group), headers=auth(make_token(alice)))
    assert response.json == {"metric": None, "optimization": None, "source": None}


def test_api_put_objective_sets_the_users_choice(client):
    alice, _, group = alice_group((EXAMPLES / "hyperband.yml").read_text())
    headers = auth(make_token(alice))
    response = client.put(
        api_url(group), headers=headers, json={"metric": "accuracy", "optimization": "maximize"}
    )
    assert response.status_code == 200
    assert response.json == {"metric": "accuracy", "optimization": "maximize", "source": "user"}
    assert client.get(api_url(group), headers=headers).json["source"] == "user"
    assert db.session.get(ExperimentGroup, group.id).objective == {
        "metric": "accuracy",
        "optimization": "maximize",
    }


def test_api_put_objective_rejects_a_bad_direction_with_field_errors(client):
    alice, _, group = alice_group(grid_yml(2))
    response = client.put(
        api_url(group),
        headers=auth(make_token(alice)),
        json={"metric": "loss", "optimization": "sideways"},
    )
    assert response.status_code == 400
    assert list(response.json) == ["optimization"]


def grid_with_losses(losses, optimization="minimize"):
    """alice's grid group with one more experiment than losses, objective loss chosen."""
    _, _, group = alice_group(grid_yml(len(losses) + 1))
    group.objective = {"metric": "loss", "optimization": optimization}
    db.session.commit()
    for experiment_id, loss in zip(ids_of(group), losses, strict=False):
        report_metric(experiment_id, "loss", loss)
    return group


def test_page_header_pins_the_best_experiment_and_the_table_highlights_it(client):
    group = grid_with_losses((0.7, 0.2, 0.9))
    sign_in(client, "alice")
    page = soup(client.get(url(group)))
    ids = ids_of(group)
    best = page.select_one("#group-header #group-best")
    assert best.select_one("#best-link")["href"] == url(group, f"experiments/{ids[1]}/")
    assert best.select_one("#best-value").text == "loss = 0.2"
    assert [tr["data-id"] for tr in page.select("#group-experiments tbody tr.best")] == [
        str(ids[1])
    ]


def test_header_says_when_there_is_no_objective(client):
    _, _, group = alice_group(grid_yml(2))
    sign_in(client, "alice")
    best = soup(client.get(url(group))).select_one("#group-best")
    assert "No objective" in best.text
    assert best.select_one("#best-link") is None


def test_objective_form_offers_known_metrics_and_both_directions(client):
    group = grid_with_losses((0.7,))
    report_metric(ids_of(group)[1], "accuracy", 0.8)
    sign_in(client, "alice")
    form = soup(client.get(url(group))).select_one("#objective-form")
    assert form["hx-post"] == url(group, "objective")
    assert [o["value"] for o in form.select("select[name=metric] option")] == ["accuracy", "loss"]
    assert form.select_one("select[name=metric] option[selected]")["value"] == "loss"
    assert [o.text for o in form.select("select[name=optimization] option")] == [
        "maximize",
        "minimize",
    ]


def test_changing_the_objective_on_the_page_moves_the_best_and_the_highlight(client):
    group = grid_with_losses((0.7, 0.2, 0.9))
    ids = ids_of(group)
    sign_in(client, "alice")
    response = client.post(
        url(group, "objective"),
        headers=HTMX,
        data={
            "csrf_token": csrf_of(client, group),
            "metric": "loss",
            "optimization": "maximize",
            "sort": "-metric.loss",
        },
    )
    assert response.status_code == 200
    page = soup(response)
    assert [tr["data-id"] for tr in page.select("#group-experiments tbody tr")][:3] == [
        str(ids[2]),
        str(ids[0]),
        str(ids[1]),
    ]
    assert page.select_one("tbody tr.best")["data-id"] == str(ids[2])
    best = page.select_one("#group-best")
    assert best["hx-swap-oob"] == "true"
    assert best.select_one("#best-link")["href"].endswith(f"/experiments/{ids[2]}/")
    assert db.session.get(ExperimentGroup, group.id).objective == {
        "metric": "loss",
        "optimization": "maximize",
    }


def test_changing_the_objective_without_javascript_redirects_to_the_same_view(client):
    group = grid_with_losses((0.7,))
    sign_in(client, "alice")
    response = client.post(
        url(group, "objective"),
        data={
            "csrf_token": csrf_of(client, group),
            "metric": "loss",
            "optimization": "maximize",
            "query": "metric.loss:>0",
        },
    )
    assert response.status_code == 302
    path, _, query = response.headers["Location"].partition("?")
    assert (path, parse_qs(query)) == (url(group), {"query": ["metric.loss:>0"]})


def test_a_viewer_cannot_change_the_objective_and_sees_no_form(client):
    _, project, group = alice_group(grid_yml(2))
    signed_in_as(client, "victor", project, "viewer")
    assert soup(client.get(url(group))).select_one("#objective-form") is None
    response = client.post(
        url(group, "objective"),
        data={"csrf_token": csrf_of(client, group), "metric": "loss", "optimization": "maximize"},
    )
    assert response.status_code == 403
    assert db.session.get(ExperimentGroup, group.id).objective is None


def test_the_polled_header_carries_the_best_box(client):
    group = grid_with_losses((0.7, 0.2))
    sign_in(client, "alice")
    response = client.get(url(group, "live") + "?status=created", headers=HTMX)
    assert (
        soup(response)
        .select_one("#group-header #group-best #best-link")["href"]
        .endswith(f"/experiments/{ids_of(group)[1]}/")
    )
