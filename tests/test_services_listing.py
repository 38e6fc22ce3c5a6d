"""services.listing's paging on its own: one query for a page and its count where it can, a
count query only past the end, and rows loaded in the order of their ids."""

from sqlalchemy import select

from dashboard.models import Experiment
from dashboard.services.listing import in_order, paginate_ids
from tests.factories import grid_yml, owner_with_group


def _ids_of(group):
    return select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)


def test_a_page_and_its_count_come_from_one_query(app, count_queries):
    root = owner_with_group(grid_yml(7))
    ids = [e.id for e in root.experiments]
    with count_queries() as statements:
        assert paginate_ids(_ids_of(root.group), 3, 2) == (7, ids[2:5])
    assert len(statements) == 1


def test_past_the_end_the_count_is_asked_for_on_its_own(app, count_queries):
    root = owner_with_group(grid_yml(7))
    with count_queries() as statements:
        assert paginate_ids(_ids_of(root.group), 3, 10) == (7, [])
    assert len(statements) == 2


def test_an_empty_first_page_counts_nothing_more(app, count_queries):
    root = owner_with_group(grid_yml(2))
    nothing = _ids_of(root.group).where(Experiment.id < 0)
    with count_queries() as statements:
        assert paginate_ids(nothing, 3, 0) == (0, [])
    assert len(statements) == 1


def test_a_count_the_caller_knows_is_kept_as_given(app, count_queries):
    root = owner_with_group(grid_yml(4))
    ids = [e.id for e in root.experiments]
    with count_queries() as statements:
        assert paginate_ids(_ids_of(root.group), 2, 0, count=99) == (99, ids[:2])
        assert paginate_ids(_ids_of(root.group), 2, 9, count=99) == (99, [])
    assert len(statements) == 2


def test_in_order_keeps_the_order_of_the_ids_and_drops_unknown_ones(app, count_queries):
    root = owner_with_group(grid_yml(4))
    first, second, third, _ = (e.id for e in root.experiments)
    with count_queries() as statements:
        rows = in_order(Experiment, [third, 10**9, first, second])
        assert in_order(Experiment, []) == []
    assert [row.id for row in rows] == [third, first, second]
    assert len(statements) == 1
