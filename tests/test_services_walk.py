"""services.experiment.walk on its own: the head of a sorted, filtered list read from an
index, and the count of a filter's matches, each equal to what the plain SQL of
services.listing gives."""

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.services.experiment import walk
from dashboard.services.listing import apply_experiment_query
from tests.factories import MIXED_SIZE, mixed_group

QUERIES = [
    None,
    "metric.m:>=1",
    "metric.m:~2",
    "params.p:~tanh|relu",
    "status:~created,params.x:>=5",
    "params.x:>=3,metric.m:>=1,params.p:~tanh,status:~failed",
    "params.x:>100",
]
INDEXED_SORTS = [
    None,
    "id",
    "-id",
    "metric.m",
    "-metric.m",
    "params.x",
    "-params.x",
    "params.p",
    "-params.p",
]


def _sql_ids(group, query, sort):
    stmt = select(Experiment.id).where(Experiment.group_id == group.id)
    return db.session.scalars(apply_experiment_query(stmt, query, sort)).all()


@pytest.mark.parametrize("sort", INDEXED_SORTS)
def test_first_ids_are_the_head_of_the_sql_order_for_every_length(app, sort):
    _, _, group = mixed_group()
    for query in QUERIES:
        expected = _sql_ids(group, query, sort)
        for n in (1, 2, 5, 13, MIXED_SIZE, MIXED_SIZE + 4):
            found = walk.first_ids(query, sort, n, group_id=group.id)
            assert found == expected[:n], (query, sort, n)


@pytest.mark.parametrize("sort", ["status", "name", "tags", "-created_at", "metric.m,-params.x"])
def test_first_ids_give_no_order_where_no_index_gives_it(app, sort):
    _, _, group = mixed_group()
    assert walk.first_ids(None, sort, 5, group_id=group.id) is None


def test_first_ids_of_no_rows_read_nothing(app, count_queries):
    _, _, group = mixed_group()
    with count_queries() as statements:
        assert walk.first_ids("metric.m:>=1", "-metric.m", 0, group_id=group.id) == []
    assert statements == []


def test_count_matching_leaves_an_unfiltered_count_to_the_status_counts(app, count_queries):
    _, _, group = mixed_group()
    with count_queries() as statements:
        assert walk.count_matching(None, group_id=group.id) is None
        assert walk.count_matching("", group_id=group.id) is None
    assert statements == []


@pytest.mark.parametrize("query", [q for q in QUERIES if q])
def test_count_matching_counts_the_rows_the_sql_filter_keeps(app, query):
    _, _, group = mixed_group()
    assert walk.count_matching(query, group_id=group.id) == len(_sql_ids(group, query, None))
