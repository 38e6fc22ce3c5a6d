"""SQL statement budgets of the read endpoints: small and big groups cost the same."""

import pytest
from sqlalchemy import insert, select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentValue
from tests.factories import grid_yml, make_group, make_project, owner_with_project

UP = "/api/v1/root/quick-start"


def _statements(client, count_queries, url, headers):
    # Warm up first: a token's last-used time is written at most once a minute, so the first
    # request of a fresh token runs an extra UPDATE that later requests do not.
    assert client.get(url, headers=headers).status_code == 200
    # The test client shares the fixture's session; empty it so nothing is served from memory.
    db.session.expunge_all()
    with count_queries() as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert statements, "no SQL statement was recorded: the counter is not listening"
    return statements


@pytest.mark.parametrize("size", [10, 2000])
def test_group_detail_takes_at_most_four_statements_whatever_the_group_size(
    client, count_queries, size
):
    root = owner_with_project()
    group = make_group(root.project, content=grid_yml(size))

    statements = _statements(client, count_queries, f"{UP}/groups/{group.id}", root.headers)

    assert len(statements) <= 4, statements


def test_group_detail_counts_every_experiment_of_a_big_group(client):
    root = owner_with_project()
    group = make_group(root.project, content=grid_yml(2000))

    body = client.get(f"{UP}/groups/{group.id}", headers=root.headers).json

    assert body["num_experiments"] == 2000
    assert body["num_pending_experiments"] == 2000


def test_experiments_list_takes_the_same_statements_for_a_small_and_a_big_group(
    client, count_queries
):
    root = owner_with_project()
    small = make_group(root.project, content=grid_yml(3))
    big = make_group(root.project, content=grid_yml(2000))

    small_count = len(
        _statements(client, count_queries, f"{UP}/experiments?group={small.id}", root.headers)
    )
    big_count = len(
        _statements(
            client, count_queries, f"{UP}/experiments?group={big.id}&limit=1000", root.headers
        )
    )

    assert small_count == big_count


def test_experiments_list_sorted_by_a_metric_takes_the_same_statements(client, count_queries):
    root = owner_with_project()
    small = make_group(root.project, content=grid_yml(3))
    big = make_group(root.project, content=grid_yml(2000))
    query = "sort=-params.x&query=params.x:>1"

    small_count = len(
        _statements(
            client, count_queries, f"{UP}/experiments?group={small.id}&{query}", root.headers
        )
    )
    big_count = len(
        _statements(
            client,
            count_queries,
            f"{UP}/experiments?group={big.id}&{query}&limit=1000",
            root.headers,
        )
    )

    assert small_count == big_count


def _metric_in_pairs(group):
    """Metric m of the group's experiments: 0, 0, 1, 1, 2, 2... (ties of two, by id)."""
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    db.session.execute(
        insert(ExperimentValue),
        [
            {
                "experiment_id": i,
                "group_id": group.id,
                "kind": "metric",
                "name": "m",
                "num_value": float(n // 2),
                "text_value": str(float(n // 2)),
            }
            for n, i in enumerate(ids)
        ],
    )
    db.session.commit()


def test_experiments_list_sorted_down_through_a_tie_takes_the_same_statements(
    client, count_queries
):
    """A page ending inside a tie of a descending sort reads that tie's lowest ids once more
    (read backwards, the index gives its highest first): for a small and a big group alike."""
    root = owner_with_project()
    small = make_group(root.project, content=grid_yml(4))
    big = make_group(root.project, content=grid_yml(2000))
    for group in (small, big):
        _metric_in_pairs(group)
    query = "sort=-metric.m&query=params.x:>=0&limit=3"

    small_count = len(
        _statements(
            client, count_queries, f"{UP}/experiments?group={small.id}&{query}", root.headers
        )
    )
    big_count = len(
        _statements(client, count_queries, f"{UP}/experiments?group={big.id}&{query}", root.headers)
    )

    assert small_count == big_count


def test_group_experiments_path_takes_the_same_statements_for_a_small_and_a_big_group(
    client, count_queries
):
    root = owner_with_project()
    small = make_group(root.project, content=grid_yml(3))
    big = make_group(root.project, content=grid_yml(2000))

    small_count = len(
        _statements(client, count_queries, f"{UP}/groups/{small.id}/experiments", root.headers)
    )
    big_count = len(
        _statements(
            client, count_queries, f"{UP}/groups/{big.id}/experiments?limit=1000", root.headers
        )
    )

    assert small_count == big_count


def test_group_list_takes_the_same_statements_for_few_and_many_groups(client, count_queries):
    root = owner_with_project()
    small = make_project(root.project.owner, "small")
    make_group(small, content=grid_yml(2))
    for _ in range(24):
        make_group(root.project, content=grid_yml(2))
    make_group(root.project, content=grid_yml(2000))

    few = len(_statements(client, count_queries, "/api/v1/root/small/groups", root.headers))
    many = len(_statements(client, count_queries, f"{UP}/groups?limit=100", root.headers))

    assert few == many


def test_bookmarks_list_takes_the_same_statements_for_few_and_many_bookmarks(client, count_queries):
    root = owner_with_project()
    groups = [make_group(root.project, content=grid_yml(2)) for _ in range(12)]
    client.post(f"{UP}/groups/{groups[0].id}/bookmark", headers=root.headers)
    few = len(_statements(client, count_queries, "/api/v1/bookmarks/root/groups", root.headers))
    for group in groups[1:]:
        client.post(f"{UP}/groups/{group.id}/bookmark", headers=root.headers)

    many = len(_statements(client, count_queries, "/api/v1/bookmarks/root/groups", root.headers))

    assert few == many


def test_statuses_list_takes_the_same_statements_for_a_small_and_a_big_group(client, count_queries):
    root = owner_with_project()
    small = make_group(root.project, content=grid_yml(3))
    big = make_group(root.project, content=grid_yml(2000))
    client.post(f"{UP}/groups/{big.id}/stop", headers=root.headers)

    small_count = len(
        _statements(client, count_queries, f"{UP}/groups/{small.id}/statuses", root.headers)
    )
    big_count = len(
        _statements(client, count_queries, f"{UP}/groups/{big.id}/statuses", root.headers)
    )

    assert small_count == big_count
