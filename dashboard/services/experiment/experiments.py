"""Experiments of a group: bulk creation, the filtered, sorted list, and reading some by id."""

from sqlalchemy import func, insert, select

from dashboard.extensions import db
from dashboard.hptuning.base import metric_value
from dashboard.hptuning.trials import Trial, in_place_of_originals
from dashboard.models import Experiment, ExperimentGroup, ExperimentStatus, ExperimentValue
from dashboard.models.experiments import value_columns
from dashboard.models.types import new_uuid, utcnow
from dashboard.services.experiment import walk
from dashboard.services.group.tallies import experiment_counts
from dashboard.services.listing import Page, apply_experiment_query, in_order
from dashboard.services.lookups import in_order_found, load_group


def create_experiments(
    group, params_list, *, iteration=None, iterations=None, origins=None, strategy=None
):
    """Insert one `created` experiment per params dict, with status and value rows, in bulk.

    `iteration` is every experiment's, or `iterations` each one's; `origins` the experiments
    they continue (None each by default), `strategy` their cloning strategy (restart, resume or
    copy: clones of their origins; None: new experiments or asha promotions)."""
    if not params_list:
        return []
    now = utcnow()
    iterations = iterations or [iteration] * len(params_list)
    origins = origins or [None] * len(params_list)
    rows = [
        {
            "uuid": new_uuid(),
            "group_id": group.id,
            "user_id": group.user_id,
            "params": params,
            "status": "created",
            "iteration": number,
            "original_experiment_id": origin,
            "cloning_strategy": strategy,
            "created_at": now,
            "updated_at": now,
        }
        for params, number, origin in zip(params_list, iterations, origins, strict=True)
    ]
    ids = db.session.scalars(
        insert(Experiment).returning(Experiment.id, sort_by_parameter_order=True), rows
    ).all()
    db.session.execute(
        insert(ExperimentStatus),
        [
            {"uuid": new_uuid(), "experiment_id": i, "status": "created", "created_at": now}
            for i in ids
        ],
    )
    value_rows = []
    for experiment_id, params in zip(ids, params_list, strict=True):
        for name, value in params.items():
            num, text = value_columns(value)
            value_rows.append(
                {
                    "experiment_id": experiment_id,
                    "group_id": group.id,
                    "kind": "param",
                    "name": name,
                    "num_value": num,
                    "text_value": text,
                }
            )
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
        stmt = apply_experiment_query(
            select(Experiment.id).where(Experiment.group_id == group.id), query, sort
        )
        ids = db.session.scalars(stmt.limit(wanted).offset(offset)).all() if wanted else []
    else:
        ids = ids[offset:]
    items = [(experiment,) for experiment in in_order(Experiment, ids)]
    return group, Page(count=count, items=items, limit=limit, offset=offset)


def experiments_by_id(access, ids):
    """The project's experiments of these ids, in their order (NotFound names any other): one
    query."""
    access.require("read")
    found = {
        e.id: e
        for e in db.session.scalars(
            select(Experiment)
            .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
            .where(Experiment.id.in_(ids), ExperimentGroup.project_id == access.project.id)
        )
    }
    return in_order_found(ids, found, "experiments")


def experiment_values(group_id):
    """Id, status, params and latest metrics of each of the group's experiments, in id order:
    one query (the caller loaded the group)."""
    return db.session.execute(
        select(Experiment.id, Experiment.status, Experiment.params, Experiment.last_metric)
        .where(Experiment.group_id == group_id)
        .order_by(Experiment.id)
    ).all()


def neighbour_ids(experiment):
    """(previous, next) experiment ids in the experiment's group, None at either end: one query."""
    row = db.session.execute(
        select(
            select(func.max(Experiment.id))
            .where(Experiment.group_id == experiment.group_id, Experiment.id < experiment.id)
            .scalar_subquery(),
            select(func.min(Experiment.id))
            .where(Experiment.group_id == experiment.group_id, Experiment.id > experiment.id)
            .scalar_subquery(),
        )
    ).one()
    return row[0], row[1]


def trials_of(group):
    """Every experiment of the group as an asynchronous search sees it (hptuning.trials.Trial,
    in id order): its matrix params (and for asha the resource), its status, its latest value
    of the search's metric and the experiment it continues; a clone in its original's place
    (hptuning.trials.in_place_of_originals). One query."""
    hptuning = group.hptuning or {}
    block = hptuning.get(group.search_algorithm) or {}
    names = list(hptuning.get("matrix") or {})
    resource = (block.get("resource") or {}).get("name")
    if resource:
        names.append(resource)
    metric = (block.get("metric") or {}).get("name")
    rows = db.session.execute(
        select(
            Experiment.id,
            Experiment.original_experiment_id,
            Experiment.cloning_strategy,
            Experiment.params,
            Experiment.status,
            Experiment.last_metric,
        )
        .where(Experiment.group_id == group.id)
        .order_by(Experiment.id)
    ).all()
    return [
        Trial(
            experiment_id,
            {name: params[name] for name in names if name in params},
            status,
            metric_value((last_metric or {}).get(metric)),
            original,
        )
        for experiment_id, original, params, status, last_metric in in_place_of_originals(rows)
    ]
