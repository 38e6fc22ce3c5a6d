"""The query and sort language on the experiment and group lists (CONTRACT.md section 6)."""

from datetime import timedelta

from dashboard.extensions import db
from dashboard.models import Project
from dashboard.models.types import utcnow
from tests.factories import (
    RANDOM_YML,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    owner_with_group,
)
from tests.support.lists import experiments_in_order, list_experiments, report, row_ids

# ---- query -----------------------------------------------------------------------------


def _with_losses(client, losses):
    """A grid group whose experiments report these losses (None: no metric)."""
    root = owner_with_group(grid_yml(len(losses)))
    experiments = experiments_in_order(root.group)
    for experiment, loss in zip(experiments, losses, strict=True):
        if loss is not None:
            report(experiment, loss=loss)
    return root.group, root.headers, [e.id for e in experiments]


def test_query_metric_compares_numerically(client):
    group, headers, ids = _with_losses(client, [9, 10, 0.5, None])

    body = list_experiments(client, group, headers, query="metric.loss:>5")

    # As strings "10" < "5"; numerically 10 > 5.
    assert row_ids(body) == [ids[0], ids[1]]


def test_query_metric_less_or_equal(client):
    group, headers, ids = _with_losses(client, [0.1, 0.05, 0.2, None])

    body = list_experiments(client, group, headers, query="metric.loss:<=0.1")

    assert row_ids(body) == [ids[0], ids[1]]


def test_query_metric_equal_matches_an_int_against_a_float(client):
    group, headers, ids = _with_losses(client, [2, 2.5, None])

    body = list_experiments(client, group, headers, query="metric.loss:=2.0")

    assert row_ids(body) == [ids[0]]


def test_query_params_compare_numerically(client):
    root = owner_with_group(grid_yml(12))
    ids = [e.id for e in experiments_in_order(root.group)]

    body = list_experiments(client, root.group, root.headers, query="params.x:>=9")

    assert row_ids(body) == ids[9:]


def test_query_params_in_a_set_of_strings(client):
    root = owner_with_group(RANDOM_YML)
    experiments = experiments_in_order(root.group)

    body = list_experiments(client, root.group, root.headers, query="params.activation:relu|tanh")

    expected = [e.id for e in experiments if e.params["activation"] == "relu"]
    assert row_ids(body) == expected
    assert {row["params"]["activation"] for row in body["results"]} == {"relu"}


def test_query_negated_status_leaves_out_that_status(client):
    root = owner_with_group(grid_yml(5))
    experiments = experiments_in_order(root.group)
    experiments[0].status = "failed"
    experiments[1].status = "failed"
    db.session.commit()

    body = list_experiments(client, root.group, root.headers, query="status:~failed")

    assert row_ids(body) == [e.id for e in experiments[2:]]


def test_query_conditions_joined_by_comma_are_anded(client):
    group, headers, ids = _with_losses(client, [0.05, 0.05, 0.5, 0.01])
    experiments = experiments_in_order(group)
    experiments[1].status = "failed"
    db.session.commit()

    body = list_experiments(client, group, headers, query="metric.loss:<0.1,status:~failed")

    assert row_ids(body) == [ids[0], ids[3]]


def test_query_a_metric_nobody_reported_matches_nothing(client):
    group, headers, ids = _with_losses(client, [0.1, 0.2])

    body = list_experiments(client, group, headers, query="metric.accuracy:>0")

    assert body["count"] == 0


def test_query_with_an_unknown_field_is_400_naming_it(client):
    root = owner_with_group(grid_yml(5))

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": root.group.id, "query": "colour:red"},
        headers=root.headers,
    )

    assert response.status_code == 400
    assert set(response.json) == {"detail"}
    assert "unknown field 'colour'" in response.json["detail"]


def test_query_with_bad_syntax_is_400_naming_the_bad_term(client):
    root = owner_with_group(grid_yml(5))

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": root.group.id, "query": "status:created,metric.loss"},
        headers=root.headers,
    )

    assert response.status_code == 400
    assert response.json == {"detail": "query: 'metric.loss' is not of the form field:value"}


def test_query_with_a_comparison_and_no_value_is_400(client):
    root = owner_with_group(grid_yml(5))

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": root.group.id, "query": "metric.loss:<"},
        headers=root.headers,
    )

    assert response.status_code == 400
    assert "'metric.loss:<'" in response.json["detail"]


# ---- sort ------------------------------------------------------------------------------


def test_sort_by_metric_ascending_is_numeric_with_missing_values_last(client):
    group, headers, ids = _with_losses(client, [None, 10, 9, 0.5, None])

    body = list_experiments(client, group, headers, sort="metric.loss")

    assert row_ids(body) == [ids[3], ids[2], ids[1], ids[0], ids[4]]


def test_sort_by_metric_descending_keeps_missing_values_last(client):
    group, headers, ids = _with_losses(client, [None, 10, 9, 0.5, None])

    body = list_experiments(client, group, headers, sort="-metric.loss")

    assert row_ids(body) == [ids[1], ids[2], ids[3], ids[0], ids[4]]


def test_sort_by_params_descending_is_numeric(client):
    root = owner_with_group(grid_yml(12))
    ids = [e.id for e in experiments_in_order(root.group)]

    body = list_experiments(client, root.group, root.headers, sort="-params.x")

    assert row_ids(body) == list(reversed(ids))


def test_sort_by_two_keys_breaks_ties_with_the_second(client):
    group, headers, ids = _with_losses(client, [0.5, 0.1, 0.5, 0.1])
    experiments = experiments_in_order(group)
    for experiment, accuracy in zip(experiments, [1, 2, 3, 4], strict=True):
        report(experiment, accuracy=accuracy)

    body = list_experiments(client, group, headers, sort="metric.loss,-metric.accuracy")

    assert row_ids(body) == [ids[3], ids[1], ids[2], ids[0]]


def test_sort_by_started_at_puts_unstarted_experiments_last_both_ways(client):
    root = owner_with_group(grid_yml(4))
    experiments = experiments_in_order(root.group)
    now = utcnow()
    experiments[1].started_at = now
    experiments[2].started_at = now - timedelta(hours=1)
    db.session.commit()
    ids = [e.id for e in experiments]

    ascending = row_ids(list_experiments(client, root.group, root.headers, sort="started_at"))
    descending = row_ids(list_experiments(client, root.group, root.headers, sort="-started_at"))

    assert ascending == [ids[2], ids[1], ids[0], ids[3]]
    assert descending == [ids[1], ids[2], ids[0], ids[3]]


def test_sort_by_an_unknown_field_is_400_naming_it(client):
    root = owner_with_group(grid_yml(5))

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": root.group.id, "sort": "-colour"},
        headers=root.headers,
    )

    assert response.status_code == 400
    assert "unknown field 'colour'" in response.json["detail"]
    assert response.json["detail"].startswith("sort:")


def test_sort_with_an_empty_field_is_400(client):
    root = owner_with_group(grid_yml(5))

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": root.group.id, "sort": "-"},
        headers=root.headers,
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
    response = client.get("/api/v1/root/quick-start/groups", query_string=params, headers=headers)
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
        "/api/v1/root/quick-start/groups",
        query_string={"query": "metric.loss:<1"},
        headers=headers,
    )

    assert response.status_code == 400
    assert "unknown field 'metric.loss'" in response.json["detail"]


def test_group_query_with_a_non_integer_concurrency_is_400(client):
    groups, headers = _groups_setup([1])

    response = client.get(
        "/api/v1/root/quick-start/groups",
        query_string={"query": "concurrency:>abc"},
        headers=headers,
    )

    assert response.status_code == 400
    assert "'abc'" in response.json["detail"]


def test_next_url_keeps_query_and_sort_and_reads_the_next_page(client):
    group, headers, ids = _with_losses(client, [0.5, 0.4, 0.3, 0.2, 0.1])

    first = list_experiments(
        client, group, headers, sort="metric.loss", query="metric.loss:<1", limit=2
    )
    second = client.get(first["next"], headers=headers).json

    assert row_ids(first) == [ids[4], ids[3]]
    assert row_ids(second) == [ids[2], ids[1]]
    assert second["count"] == 5


def test_experiments_list_of_a_group_of_another_project_is_404(client):
    root = owner_with_group(grid_yml(5))
    other = make_group(make_project(root.project.owner, "other"), content=grid_yml(2))

    response = client.get(
        f"/api/v1/root/quick-start/experiments?group={other.id}", headers=root.headers
    )

    assert response.status_code == 404


def test_query_by_date_compares_as_dates(client):
    root = owner_with_group(grid_yml(3))
    experiments = experiments_in_order(root.group)
    experiments[0].started_at = utcnow() - timedelta(days=2)
    experiments[1].started_at = utcnow()
    db.session.commit()
    since = (utcnow() - timedelta(days=1)).replace(tzinfo=None).isoformat()

    body = list_experiments(client, root.group, root.headers, query=f"started_at:>{since}")

    assert row_ids(body) == [experiments[1].id]


def test_query_by_a_bad_date_is_400_naming_it(client):
    root = owner_with_group(grid_yml(5))

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": root.group.id, "query": "created_at:>yesterday"},
        headers=root.headers,
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
