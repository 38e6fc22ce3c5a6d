"""Pagination, experiment lists, and the query and sort language (CONTRACT.md sections 1 and 6)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentValue, Project
from dashboard.models.experiments import value_columns
from dashboard.models.types import utcnow
from tests.factories import (
    RANDOM_YML,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
)

EXPERIMENT_KEYS = {
    "id", "uuid", "name", "unique_name", "user", "description", "created_at", "updated_at",
    "started_at", "finished_at", "last_status", "project", "experiment_group", "tags",
    "last_metric", "params", "bookmarked",
}
BASE = "http://localhost/api/v1/root/quick-start"


def _setup(content=None):
    content = content or grid_yml(5)
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    group = make_group(project, content=content)
    return project, group, auth(make_token(owner))


def _experiments(group):
    return db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def _report(experiment, **metrics):
    """Record an experiment's latest metrics the way metric reporting will: JSON and typed rows."""
    experiment.last_metric = {**(experiment.last_metric or {}), **metrics}
    for name, value in metrics.items():
        row = db.session.get(ExperimentValue, (experiment.id, "metric", name))
        if row is None:
            row = ExperimentValue(experiment_id=experiment.id, group_id=experiment.group_id,
                                  kind="metric", name=name)
            db.session.add(row)
        row.num_value, row.text_value = value_columns(value)
    db.session.commit()


def _list(client, group, headers, **params):
    response = client.get(
        "/api/v1/root/quick-start/experiments", query_string={"group": group.id, **params},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    return response.json


def _ids(body):
    return [row["id"] for row in body["results"]]


# ---- pagination ------------------------------------------------------------------------


def test_list_defaults_to_20_rows_with_an_absolute_next_url(client):
    project, group, headers = _setup(grid_yml(25))

    body = _list(client, group, headers)

    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"] == f"{BASE}/experiments?group={group.id}&limit=20&offset=20"
    assert body["previous"] is None


def test_list_last_page_has_no_next_and_an_absolute_previous_url(client):
    project, group, headers = _setup(grid_yml(25))

    body = _list(client, group, headers, offset=20)

    assert len(body["results"]) == 5
    assert body["next"] is None
    assert body["previous"] == f"{BASE}/experiments?group={group.id}&limit=20"


def test_list_pages_with_offset_cover_every_row_once(client):
    project, group, headers = _setup(grid_yml(25))
    all_ids = [e.id for e in _experiments(group)]

    pages = [_ids(_list(client, group, headers, limit=10, offset=o)) for o in (0, 10, 20)]

    assert sum(pages, []) == all_ids


def test_list_middle_page_links_both_ways(client):
    project, group, headers = _setup(grid_yml(25))

    body = _list(client, group, headers, limit=10, offset=10)

    assert body["next"] == f"{BASE}/experiments?group={group.id}&limit=10&offset=20"
    assert body["previous"] == f"{BASE}/experiments?group={group.id}&limit=10"


def test_list_limit_above_1000_is_clamped_to_1000(client):
    project, group, headers = _setup(grid_yml(1001))

    body = _list(client, group, headers, limit=5000)

    assert body["count"] == 1001
    assert len(body["results"]) == 1000
    assert body["next"] == f"{BASE}/experiments?group={group.id}&limit=1000&offset=1000"


@pytest.mark.parametrize("name,value", [
    ("limit", "-1"), ("offset", "-5"), ("limit", "ten"), ("offset", "1.5"),
])
def test_list_negative_or_non_numeric_limit_or_offset_is_400(client, name, value):
    project, group, headers = _setup()

    response = client.get(
        "/api/v1/root/quick-start/experiments", query_string={"group": group.id, name: value},
        headers=headers,
    )

    assert response.status_code == 400
    assert response.json == {"detail": f"{name} must be a non-negative integer, not '{value}'."}


def test_group_list_is_paginated_the_same_way(client):
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    for _ in range(3):
        make_group(project, content=grid_yml(1))

    response = client.get(
        "/api/v1/root/quick-start/groups?limit=2", headers=auth(make_token(owner))
    )

    assert response.json["count"] == 3
    assert len(response.json["results"]) == 2
    assert response.json["next"] == f"{BASE}/groups?limit=2&offset=2"


# ---- experiments list ------------------------------------------------------------------


def test_experiments_list_via_group_param_has_exactly_the_contract_keys(client):
    project, group, headers = _setup()

    body = _list(client, group, headers)

    assert body["count"] == 5
    assert [set(row) for row in body["results"]] == [EXPERIMENT_KEYS] * 5


def test_experiment_row_values(client):
    project, group, headers = _setup(RANDOM_YML)
    experiment = _experiments(group)[0]
    _report(experiment, loss=0.25)

    row = _list(client, group, headers)["results"][0]

    assert row["id"] == experiment.id
    assert row["unique_name"] == f"root.quick-start.{group.id}.{experiment.id}"
    assert row["experiment_group"] == f"root.quick-start.{group.id}"
    assert row["project"] == "root.quick-start"
    assert row["user"] == "root"
    assert row["last_status"] == "created"
    assert row["last_metric"] == {"loss": 0.25}
    assert set(row["params"]) == {
        "batch_size", "num_steps", "num_epochs", "learning_rate", "dropout", "activation"
    }
    assert row["params"]["batch_size"] == 128
    assert row["bookmarked"] is False


def test_experiments_list_via_group_path_is_the_same_list(client):
    project, group, headers = _setup()

    via_param = _list(client, group, headers)
    via_path = client.get(
        f"/api/v1/root/quick-start/groups/{group.id}/experiments", headers=headers
    ).json

    assert via_path["results"] == via_param["results"]
    assert via_path["count"] == via_param["count"]


def test_experiments_list_holds_only_that_groups_experiments(client):
    project, group, headers = _setup()
    other = make_group(project, content=grid_yml(3))

    body = _list(client, other, headers)

    assert body["count"] == 3
    assert {row["experiment_group"] for row in body["results"]} == {
        f"root.quick-start.{other.id}"
    }


def test_experiments_list_default_order_is_by_id(client):
    project, group, headers = _setup()

    assert _ids(_list(client, group, headers)) == [e.id for e in _experiments(group)]


def test_experiments_list_without_group_param_is_400(client):
    project, group, headers = _setup()

    response = client.get("/api/v1/root/quick-start/experiments", headers=headers)

    assert response.status_code == 400
    assert response.json == {"group": ["This field is required."]}


def test_experiments_list_with_a_non_integer_group_is_400(client):
    project, group, headers = _setup()

    response = client.get("/api/v1/root/quick-start/experiments?group=abc", headers=headers)

    assert response.status_code == 400
    assert response.json == {"detail": "group must be an integer id, not 'abc'."}


def test_experiments_list_of_an_unknown_group_is_404(client):
    project, group, headers = _setup()

    response = client.get("/api/v1/root/quick-start/experiments?group=9999", headers=headers)

    assert response.status_code == 404


def test_experiments_list_accepts_and_ignores_the_clients_extra_params(client):
    project, group, headers = _setup()

    body = _list(client, group, headers, metrics="true", params="true", independent="false")

    assert body["count"] == 5


# ---- query -----------------------------------------------------------------------------


def _with_losses(client, losses):
    """A grid group whose experiments report these losses (None: no metric)."""
    project, group, headers = _setup(grid_yml(len(losses)))
    experiments = _experiments(group)
    for experiment, loss in zip(experiments, losses, strict=True):
        if loss is not None:
            _report(experiment, loss=loss)
    return group, headers, [e.id for e in experiments]


def test_query_metric_compares_numerically(client):
    group, headers, ids = _with_losses(client, [9, 10, 0.5, None])

    body = _list(client, group, headers, query="metric.loss:>5")

    # As strings "10" < "5"; numerically 10 > 5.
    assert _ids(body) == [ids[0], ids[1]]


def test_query_metric_less_or_equal(client):
    group, headers, ids = _with_losses(client, [0.1, 0.05, 0.2, None])

    body = _list(client, group, headers, query="metric.loss:<=0.1")

    assert _ids(body) == [ids[0], ids[1]]


def test_query_metric_equal_matches_an_int_against_a_float(client):
    group, headers, ids = _with_losses(client, [2, 2.5, None])

    body = _list(client, group, headers, query="metric.loss:=2.0")

    assert _ids(body) == [ids[0]]


def test_query_params_compare_numerically(client):
    project, group, headers = _setup(grid_yml(12))
    ids = [e.id for e in _experiments(group)]

    body = _list(client, group, headers, query="params.x:>=9")

    assert _ids(body) == ids[9:]


def test_query_params_in_a_set_of_strings(client):
    project, group, headers = _setup(RANDOM_YML)
    experiments = _experiments(group)

    body = _list(client, group, headers, query="params.activation:relu|tanh")

    expected = [e.id for e in experiments if e.params["activation"] == "relu"]
    assert _ids(body) == expected
    assert {row["params"]["activation"] for row in body["results"]} == {"relu"}


def test_query_negated_status_leaves_out_that_status(client):
    project, group, headers = _setup()
    experiments = _experiments(group)
    experiments[0].status = "failed"
    experiments[1].status = "failed"
    db.session.commit()

    body = _list(client, group, headers, query="status:~failed")

    assert _ids(body) == [e.id for e in experiments[2:]]


def test_query_conditions_joined_by_comma_are_anded(client):
    group, headers, ids = _with_losses(client, [0.05, 0.05, 0.5, 0.01])
    experiments = _experiments(group)
    experiments[1].status = "failed"
    db.session.commit()

    body = _list(client, group, headers, query="metric.loss:<0.1,status:~failed")

    assert _ids(body) == [ids[0], ids[3]]


def test_query_a_metric_nobody_reported_matches_nothing(client):
    group, headers, ids = _with_losses(client, [0.1, 0.2])

    body = _list(client, group, headers, query="metric.accuracy:>0")

    assert body["count"] == 0


def test_query_with_an_unknown_field_is_400_naming_it(client):
    project, group, headers = _setup()

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": group.id, "query": "colour:red"}, headers=headers,
    )

    assert response.status_code == 400
    assert set(response.json) == {"detail"}
    assert "unknown field 'colour'" in response.json["detail"]


def test_query_with_bad_syntax_is_400_naming_the_bad_term(client):
    project, group, headers = _setup()

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": group.id, "query": "status:created,metric.loss"}, headers=headers,
    )

    assert response.status_code == 400
    assert response.json == {"detail": "query: 'metric.loss' is not of the form field:value"}


def test_query_with_a_comparison_and_no_value_is_400(client):
    project, group, headers = _setup()

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": group.id, "query": "metric.loss:<"}, headers=headers,
    )

    assert response.status_code == 400
    assert "'metric.loss:<'" in response.json["detail"]


# ---- sort ------------------------------------------------------------------------------


def test_sort_by_metric_ascending_is_numeric_with_missing_values_last(client):
    group, headers, ids = _with_losses(client, [None, 10, 9, 0.5, None])

    body = _list(client, group, headers, sort="metric.loss")

    assert _ids(body) == [ids[3], ids[2], ids[1], ids[0], ids[4]]


def test_sort_by_metric_descending_keeps_missing_values_last(client):
    group, headers, ids = _with_losses(client, [None, 10, 9, 0.5, None])

    body = _list(client, group, headers, sort="-metric.loss")

    assert _ids(body) == [ids[1], ids[2], ids[3], ids[0], ids[4]]


def test_sort_by_params_descending_is_numeric(client):
    project, group, headers = _setup(grid_yml(12))
    ids = [e.id for e in _experiments(group)]

    body = _list(client, group, headers, sort="-params.x")

    assert _ids(body) == list(reversed(ids))


def test_sort_by_two_keys_breaks_ties_with_the_second(client):
    group, headers, ids = _with_losses(client, [0.5, 0.1, 0.5, 0.1])
    experiments = _experiments(group)
    for experiment, accuracy in zip(experiments, [1, 2, 3, 4], strict=True):
        _report(experiment, accuracy=accuracy)

    body = _list(client, group, headers, sort="metric.loss,-metric.accuracy")

    assert _ids(body) == [ids[3], ids[1], ids[2], ids[0]]


def test_sort_by_started_at_puts_unstarted_experiments_last_both_ways(client):
    project, group, headers = _setup(grid_yml(4))
    experiments = _experiments(group)
    now = utcnow()
    experiments[1].started_at = now
    experiments[2].started_at = now - timedelta(hours=1)
    db.session.commit()
    ids = [e.id for e in experiments]

    ascending = _ids(_list(client, group, headers, sort="started_at"))
    descending = _ids(_list(client, group, headers, sort="-started_at"))

    assert ascending == [ids[2], ids[1], ids[0], ids[3]]
    assert descending == [ids[1], ids[2], ids[0], ids[3]]


def test_sort_by_an_unknown_field_is_400_naming_it(client):
    project, group, headers = _setup()

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": group.id, "sort": "-colour"}, headers=headers,
    )

    assert response.status_code == 400
    assert "unknown field 'colour'" in response.json["detail"]
    assert response.json["detail"].startswith("sort:")


def test_sort_with_an_empty_field_is_400(client):
    project, group, headers = _setup()

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": group.id, "sort": "-"}, headers=headers,
    )

    assert response.status_code == 400
    assert response.json == {"detail": "sort: '-' names no field"}


# ---- group list query and sort ---------------------------------------------------------


def _groups_setup(concurrencies):
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    groups = []
    for concurrency in concurrencies:
        content = grid_yml(1).replace("concurrency: 2", f"concurrency: {concurrency}")
        groups.append(make_group(project, content=content))
    return groups, auth(make_token(owner))


def _group_ids(client, headers, **params):
    response = client.get(
        "/api/v1/root/quick-start/groups", query_string=params, headers=headers
    )
    assert response.status_code == 200, response.json
    return [row["id"] for row in response.json["results"]]


def test_group_query_compares_concurrency_numerically(client):
    groups, headers = _groups_setup([9, 10, 1])

    ids = _group_ids(client, headers, query="concurrency:>5", sort="concurrency")

    assert ids == [groups[0].id, groups[1].id]


def test_group_query_by_search_algorithm(client):
    groups, headers = _groups_setup([1, 1])
    project = db.session.get(Project, groups[0].project_id)
    random_group = make_group(project, content=RANDOM_YML)

    ids = _group_ids(client, headers, query="search_algorithm:random")

    assert ids == [random_group.id]


def test_group_query_by_status_negated(client):
    groups, headers = _groups_setup([1, 1, 1])
    client.post(f"/api/v1/root/quick-start/groups/{groups[1].id}/stop", headers=headers)

    ids = _group_ids(client, headers, query="status:~stopped", sort="id")

    assert ids == [groups[0].id, groups[2].id]


def test_group_sort_by_started_at_puts_unstarted_groups_last_both_ways(client):
    groups, headers = _groups_setup([1, 1, 1])
    now = utcnow()
    groups[0].started_at = now - timedelta(hours=1)
    groups[2].started_at = now
    db.session.commit()

    ascending = _group_ids(client, headers, sort="started_at")
    descending = _group_ids(client, headers, sort="-started_at")

    assert ascending == [groups[0].id, groups[2].id, groups[1].id]
    assert descending == [groups[2].id, groups[0].id, groups[1].id]


def test_group_query_with_an_unknown_field_is_400_naming_it(client):
    groups, headers = _groups_setup([1])

    response = client.get(
        "/api/v1/root/quick-start/groups", query_string={"query": "metric.loss:<1"},
        headers=headers,
    )

    assert response.status_code == 400
    assert "unknown field 'metric.loss'" in response.json["detail"]


def test_group_query_with_a_non_integer_concurrency_is_400(client):
    groups, headers = _groups_setup([1])

    response = client.get(
        "/api/v1/root/quick-start/groups", query_string={"query": "concurrency:>abc"},
        headers=headers,
    )

    assert response.status_code == 400
    assert "'abc'" in response.json["detail"]


def test_next_url_keeps_query_and_sort_and_reads_the_next_page(client):
    group, headers, ids = _with_losses(client, [0.5, 0.4, 0.3, 0.2, 0.1])

    first = _list(client, group, headers, sort="metric.loss", query="metric.loss:<1", limit=2)
    second = client.get(first["next"], headers=headers).json

    assert _ids(first) == [ids[4], ids[3]]
    assert _ids(second) == [ids[2], ids[1]]
    assert second["count"] == 5


def test_experiments_list_of_a_group_of_another_project_is_404(client):
    project, group, headers = _setup()
    other = make_group(make_project(project.owner, "other"), content=grid_yml(2))

    response = client.get(f"/api/v1/root/quick-start/experiments?group={other.id}", headers=headers)

    assert response.status_code == 404


def test_query_by_date_compares_as_dates(client):
    project, group, headers = _setup(grid_yml(3))
    experiments = _experiments(group)
    experiments[0].started_at = utcnow() - timedelta(days=2)
    experiments[1].started_at = utcnow()
    db.session.commit()
    since = (utcnow() - timedelta(days=1)).replace(tzinfo=None).isoformat()

    body = _list(client, group, headers, query=f"started_at:>{since}")

    assert _ids(body) == [experiments[1].id]


def test_query_by_a_bad_date_is_400_naming_it(client):
    project, group, headers = _setup()

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": group.id, "query": "created_at:>yesterday"}, headers=headers,
    )

    assert response.status_code == 400
    assert "'yesterday'" in response.json["detail"]


def test_group_query_by_tag_matches_whole_tags(client):
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    tagged = make_group(project, content=grid_yml(1), tags=["a", "ab"])
    make_group(project, content=grid_yml(1), tags=["ab"])
    make_group(project, content=grid_yml(1))

    ids = _group_ids(client, auth(make_token(owner)), query="tags:a")

    assert ids == [tagged.id]


def test_group_sort_by_name_puts_unnamed_groups_last_both_ways(client):
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    unnamed = make_group(project, content=grid_yml(1))
    beta = make_group(project, content=grid_yml(1), name="beta")
    alpha = make_group(project, content=grid_yml(1), name="alpha")
    headers = auth(make_token(owner))

    ascending = _group_ids(client, headers, sort="name")
    descending = _group_ids(client, headers, sort="-name")

    assert ascending == [alpha.id, beta.id, unnamed.id]
    assert descending == [beta.id, alpha.id, unnamed.id]
