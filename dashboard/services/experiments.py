"""Experiments of a group: bulk creation and the filtered, sorted list."""

from sqlalchemy import insert, select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentStatus, ExperimentValue
from dashboard.models.experiments import value_columns
from dashboard.models.types import new_uuid, utcnow
from dashboard.services import walk
from dashboard.services.listing import Page, apply_experiment_query, in_order
from dashboard.services.lookups import load_group
from dashboard.services.tallies import experiment_counts


def create_experiments(group, params_list, *, iteration=None):
    """Insert one `created` experiment per params dict, with status and value rows, in bulk."""
    if not params_list:
        return []
    now = utcnow()
    rows = [
        {"uuid": new_uuid(), "group_id": group.id, "user_id": group.user_id, "params": params,
         "status": "created", "iteration": iteration, "created_at": now, "updated_at": now}
        for params in params_list
    ]
    ids = db.session.scalars(
        insert(Experiment).returning(Experiment.id, sort_by_parameter_order=True), rows
    ).all()
    db.session.execute(
        insert(ExperimentStatus),
        [{"uuid": new_uuid(), "experiment_id": i, "status": "created", "created_at": now}
         for i in ids],
    )
    value_rows = []
    for experiment_id, params in zip(ids, params_list, strict=True):
        for name, value in params.items():
            num, text = value_columns(value)
            value_rows.append({"experiment_id": experiment_id, "group_id": group.id,
                               "kind": "param", "name": name, "num_value": num,
                               "text_value": text})
    if value_rows:
        db.session.execute(insert(ExperimentValue), value_rows)
    return ids


def list_experiments(access, group_id, *, query=None, sort=None, limit, offset):
    """A page of the group's experiments; returns (group, page).

    The count is exact without sorting anything: the group's status counts, or the matches of
    the query counted row by row. A page in id order or sorted by a param or metric is read in
    index order up to its end (walk.first_ids); any other order sorts the matching ids. Only
    the page's rows are loaded.
    """
    group = load_group(access, group_id)
    count = walk.count_matching(query, group_id=group.id)
    if count is None:
        count = sum(experiment_counts(group.id).values())
    wanted = max(0, min(limit, count - offset))
    ids = walk.first_ids(query, sort, offset + wanted if wanted else 0, group_id=group.id)
    if ids is None:
        stmt = apply_experiment_query(select(Experiment.id).where(Experiment.group_id == group.id),
                                      query, sort)
        ids = db.session.scalars(stmt.limit(wanted).offset(offset)).all() if wanted else []
    else:
        ids = ids[offset:]
    items = [(experiment,) for experiment in in_order(Experiment, ids)]
    return group, Page(count=count, items=items, limit=limit, offset=offset)
