"""The API's experiments list read in index order: every page and count is the plain SQL's."""

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.services.experiment import experiments
from dashboard.services.listing import apply_experiment_query
from dashboard.services.project.access import project_access
from tests.factories import (
    MIXED_SIZE,
    auth,
    make_token,
    mixed_group,
)

QUERIES = [
    None,
    "metric.m:>=1",
    "metric.m:~2",
    "params.p:relu",
    "params.p:1|relu",
    "params.p:~tanh|relu",
    "params.x:<20,metric.m:<3",
    "status:created",
    "status:~created,params.x:>=5",
    "metric.m:<=2,status:failed|created",
    "params.x:>100",
    "params.x:>=3,metric.m:>=1,params.p:~tanh,status:~failed",
]
SORTS = [
    None,
    "id",
    "-id",
    "metric.m",
    "-metric.m",
    "params.x",
    "-params.x",
    "params.p",
    "-params.p",
    "status",
    "-created_at",
    "metric.m,-params.x",
]
# (limit, offsets): every page of 3 and a page past the end; pages of 7 from odd offsets.
PAGES = [(3, range(0, MIXED_SIZE + 3, 3)), (7, (0, 5, 12, 26, 30)), (1000, (0,))]


@pytest.mark.parametrize("sort", SORTS)
def test_every_page_and_count_are_those_of_the_sorted_filtered_sql(app, sort):
    """Each page of the list (walked in index order, or sorted where no index gives the
    order) holds the same ids in the same order as the same slice of the whole list in SQL,
    and the count is the number of its rows."""
    owner, project, group = mixed_group()
    access = project_access(owner.username, project.name, actor=owner)
    for query in QUERIES:
        expected = db.session.scalars(
            apply_experiment_query(
                select(Experiment.id).where(Experiment.group_id == group.id), query, sort
            )
        ).all()
        for limit, offsets in PAGES:
            for offset in offsets:
                _, page = experiments.list_experiments(
                    access, group.id, query=query, sort=sort, limit=limit, offset=offset
                )
                where = (query, sort, limit, offset)
                assert page.count == len(expected), where
                assert [row[0].id for row in page.items] == expected[offset : offset + limit], where


def test_a_bad_sort_is_a_400_even_past_the_last_page(client):
    """Nothing is walked past the end, but the sort is still read."""
    owner, _, group = mixed_group()
    response = client.get(
        f"/api/v1/root/quick-start/groups/{group.id}/experiments/",
        query_string={"sort": "-colour", "offset": 500},
        headers=auth(make_token(owner)),
    )
    assert response.status_code == 400
    assert response.json["detail"].startswith("sort:")
