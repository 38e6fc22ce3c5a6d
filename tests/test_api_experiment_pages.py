"""The API's experiments list read in index order: every page and count is the plain SQL's."""

import pytest
from sqlalchemy import insert, select, update

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentValue
from dashboard.models.experiments import value_columns
from dashboard.services import experiments
from dashboard.services.access import project_access
from dashboard.services.listing import apply_experiment_query
from tests.factories import auth, grid_yml, make_group, make_project, make_token, make_user

SIZE = 31
QUERIES = [None, "metric.m:>=1", "metric.m:~2", "params.p:relu", "params.p:1|relu",
           "params.p:~tanh|relu", "params.x:<20,metric.m:<3", "status:created",
           "status:~created,params.x:>=5", "metric.m:<=2,status:failed|created", "params.x:>100",
           "params.x:>=3,metric.m:>=1,params.p:~tanh,status:~failed"]
SORTS = [None, "id", "-id", "metric.m", "-metric.m", "params.x", "-params.x", "params.p",
         "-params.p", "status", "-created_at", "metric.m,-params.x"]
# (limit, offsets): every page of 3 and a page past the end; pages of 7 from odd offsets.
PAGES = [(3, range(0, SIZE + 3, 3)), (7, (0, 5, 12, 26, 30)), (1000, (0,))]


def mixed_group():
    """A grid of 31 (param x) whose metric m is a number with ties (one of them written "2",
    one NaN), a text or missing, whose param p is a text with ties, a number or missing, and
    whose experiments are created, running or failed."""
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    group = make_group(project, content=grid_yml(SIZE))
    ids = db.session.scalars(select(Experiment.id).where(Experiment.group_id == group.id)
                             .order_by(Experiment.id)).all()
    rows = []
    for n, experiment_id in enumerate(ids):
        m = (float(n % 4) if n % 7 != 3 else f"t{n % 3}") if n % 6 != 5 else None
        p = (("relu", "tanh", "relu", 1)[n % 4]) if n % 5 != 2 else None
        for kind, name, value in (("metric", "m", m), ("param", "p", p)):
            if value is None:
                continue
            num, text = value_columns(value)
            if (kind, n) == ("metric", 6):
                text = "2"  # 2.0 as the others, but another text: the tie is broken by text
            if (kind, n) == ("metric", 13):
                num, text = float("nan"), "nan"
            rows.append({"experiment_id": experiment_id, "group_id": group.id, "kind": kind,
                         "name": name, "num_value": num, "text_value": text})
    db.session.execute(insert(ExperimentValue), rows)
    for status, step in (("running", 5), ("failed", 7)):
        db.session.execute(update(Experiment).where(Experiment.id.in_(ids[::step][1:]))
                           .values(status=status))
    db.session.commit()
    return owner, project, group


@pytest.mark.parametrize("sort", SORTS)
def test_every_page_and_count_are_those_of_the_sorted_filtered_sql(app, sort):
    """Each page of the list (walked in index order, or sorted where no index gives the
    order) holds the same ids in the same order as the same slice of the whole list in SQL,
    and the count is the number of its rows."""
    owner, project, group = mixed_group()
    access = project_access(owner.username, project.name, actor=owner)
    for query in QUERIES:
        expected = db.session.scalars(apply_experiment_query(
            select(Experiment.id).where(Experiment.group_id == group.id), query, sort)).all()
        for limit, offsets in PAGES:
            for offset in offsets:
                _, page = experiments.list_experiments(access, group.id, query=query,
                                                       sort=sort, limit=limit, offset=offset)
                where = (query, sort, limit, offset)
                assert page.count == len(expected), where
                assert [row[0].id for row in page.items] == expected[offset:offset + limit], where


def test_a_bad_sort_is_a_400_even_past_the_last_page(client):
    """Nothing is walked past the end, but the sort is still read."""
    owner, _, group = mixed_group()
    response = client.get(f"/api/v1/root/quick-start/groups/{group.id}/experiments/",
                          query_string={"sort": "-colour", "offset": 500},
                          headers=auth(make_token(owner)))
    assert response.status_code == 400
    assert response.json["detail"].startswith("sort:")
