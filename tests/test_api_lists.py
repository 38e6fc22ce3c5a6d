"""Pagination and the experiment lists (CONTRACT.md section 1)."""

import pytest

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
from tests.support.contract import EXPERIMENT_KEYS
from tests.support.lists import experiments_in_order, list_experiments, report, row_ids

BASE = "http://localhost/api/v1/root/quick-start"


# ---- pagination ------------------------------------------------------------------------


def test_list_defaults_to_20_rows_with_an_absolute_next_url(client):
    root = owner_with_group(grid_yml(25))

    body = list_experiments(client, root.group, root.headers)

    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"] == f"{BASE}/experiments?group={root.group.id}&limit=20&offset=20"
    assert body["previous"] is None


def test_list_last_page_has_no_next_and_an_absolute_previous_url(client):
    root = owner_with_group(grid_yml(25))

    body = list_experiments(client, root.group, root.headers, offset=20)

    assert len(body["results"]) == 5
    assert body["next"] is None
    assert body["previous"] == f"{BASE}/experiments?group={root.group.id}&limit=20"


def test_list_pages_with_offset_cover_every_row_once(client):
    root = owner_with_group(grid_yml(25))
    all_ids = [e.id for e in experiments_in_order(root.group)]

    pages = [
        row_ids(list_experiments(client, root.group, root.headers, limit=10, offset=o))
        for o in (0, 10, 20)
    ]

    assert sum(pages, []) == all_ids


def test_list_middle_page_links_both_ways(client):
    root = owner_with_group(grid_yml(25))

    body = list_experiments(client, root.group, root.headers, limit=10, offset=10)

    assert body["next"] == f"{BASE}/experiments?group={root.group.id}&limit=10&offset=20"
    assert body["previous"] == f"{BASE}/experiments?group={root.group.id}&limit=10"


def test_list_limit_above_1000_is_clamped_to_1000(client):
    root = owner_with_group(grid_yml(1001))

    body = list_experiments(client, root.group, root.headers, limit=5000)

    assert body["count"] == 1001
    assert len(body["results"]) == 1000
    assert body["next"] == f"{BASE}/experiments?group={root.group.id}&limit=1000&offset=1000"


@pytest.mark.parametrize(
    "name,value",
    [
        ("limit", "-1"),
        ("offset", "-5"),
        ("limit", "ten"),
        ("offset", "1.5"),
    ],
)
def test_list_negative_or_non_numeric_limit_or_offset_is_400(client, name, value):
    root = owner_with_group(grid_yml(5))

    response = client.get(
        "/api/v1/root/quick-start/experiments",
        query_string={"group": root.group.id, name: value},
        headers=root.headers,
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
    root = owner_with_group(grid_yml(5))

    body = list_experiments(client, root.group, root.headers)

    assert body["count"] == 5
    assert [set(row) for row in body["results"]] == [EXPERIMENT_KEYS] * 5


def test_experiment_row_values(client):
    root = owner_with_group(RANDOM_YML)
    experiment = experiments_in_order(root.group)[0]
    report(experiment, loss=0.25)

    row = list_experiments(client, root.group, root.headers)["results"][0]

    assert row["id"] == experiment.id
    assert row["unique_name"] == f"root.quick-start.{root.group.id}.{experiment.id}"
    assert row["experiment_group"] == f"root.quick-start.{root.group.id}"
    assert row["project"] == "root.quick-start"
    assert row["user"] == "root"
    assert row["last_status"] == "created"
    assert row["last_metric"] == {"loss": 0.25}
    assert set(row["params"]) == {
        "batch_size",
        "num_steps",
        "num_epochs",
        "learning_rate",
        "dropout",
        "activation",
    }
    assert row["params"]["batch_size"] == 128
    assert row["bookmarked"] is False


def test_experiments_list_via_group_path_is_the_same_list(client):
    root = owner_with_group(grid_yml(5))

    via_param = list_experiments(client, root.group, root.headers)
    via_path = client.get(
        f"/api/v1/root/quick-start/groups/{root.group.id}/experiments", headers=root.headers
    ).json

    assert via_path["results"] == via_param["results"]
    assert via_path["count"] == via_param["count"]


def test_experiments_list_holds_only_that_groups_experiments(client):
    root = owner_with_group(grid_yml(5))
    other = make_group(root.project, content=grid_yml(3))

    body = list_experiments(client, other, root.headers)

    assert body["count"] == 3
    assert {row["experiment_group"] for row in body["results"]} == {f"root.quick-start.{other.id}"}


def test_experiments_list_default_order_is_by_id(client):
    root = owner_with_group(grid_yml(5))

    assert row_ids(list_experiments(client, root.group, root.headers)) == [
        e.id for e in experiments_in_order(root.group)
    ]


def test_experiments_list_without_group_param_is_400(client):
    root = owner_with_group(grid_yml(5))

    response = client.get("/api/v1/root/quick-start/experiments", headers=root.headers)

    assert response.status_code == 400
    assert response.json == {"group": ["This field is required."]}


def test_experiments_list_with_a_non_integer_group_is_400(client):
    root = owner_with_group(grid_yml(5))

    response = client.get("/api/v1/root/quick-start/experiments?group=abc", headers=root.headers)

    assert response.status_code == 400
    assert response.json == {"detail": "group must be an integer id, not 'abc'."}


def test_experiments_list_of_an_unknown_group_is_404(client):
    root = owner_with_group(grid_yml(5))

    response = client.get("/api/v1/root/quick-start/experiments?group=9999", headers=root.headers)

    assert response.status_code == 404


def test_experiments_list_accepts_and_ignores_the_clients_extra_params(client):
    root = owner_with_group(grid_yml(5))

    body = list_experiments(
        client, root.group, root.headers, metrics="true", params="true", independent="false"
    )

    assert body["count"] == 5
