"""A group's optimisation objective (chosen by a user or taken from its spec) and its best run."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from dashboard.errors import field_error
from dashboard.extensions import db
from dashboard.models import ExperimentValue
from dashboard.services.lookups import load_group

OPTIMIZATIONS = ("maximize", "minimize")
MAX_METRIC_NAME = 128


@dataclass(frozen=True)
class Objective:
    """Which metric to optimise, which way, and where that choice came from ("user"/"spec")."""

    metric: str
    optimization: str
    source: str

    @property
    def maximize(self):
        return self.optimization == "maximize"


@dataclass(frozen=True)
class Best:
    """The best experiment of a group for its objective: its id and metric value."""

    id: int
    value: float


def _spec_rules(hptuning):
    """(metric, optimization) of each metric the spec optimises: its search algorithm's
    (hyperband, bo, asha, tpe, cmaes), then its early-stopping rules."""
    for algorithm in ("hyperband", "bo", "asha", "tpe", "cmaes"):
        metric = (hptuning.get(algorithm) or {}).get("metric")
        if metric and metric.get("name"):
            yield metric["name"], metric.get("optimization") or "maximize"
    for rule in hptuning.get("early_stopping") or []:
        if rule.get("metric"):
            yield rule["metric"], rule.get("optimization") or "maximize"


def objective_of(group):
    """The user's objective, else the spec's (its algorithm's metric, first early-stopping rule)."""
    chosen = group.objective
    if chosen and chosen.get("metric"):
        return Objective(chosen["metric"], chosen.get("optimization", "maximize"), "user")
    found = next(_spec_rules(group.hptuning or {}), None)
    return Objective(found[0], found[1], "spec") if found else None


def direction_of(group, metric):
    """Which way the group optimises a metric: as its objective, else as a spec rule naming it;
    None when neither says (the metric has no known direction)."""
    objective = objective_of(group)
    if objective is not None and objective.metric == metric:
        return objective
    found = next((rule for rule in _spec_rules(group.hptuning or {}) if rule[0] == metric), None)
    return Objective(metric, found[1], "spec") if found else None


def check_objective(metric, optimization):
    """A metric name and a direction, validated (400 with field errors otherwise)."""
    metric = (metric or "").strip() if isinstance(metric, str) else metric
    if not isinstance(metric, str) or not metric or len(metric) > MAX_METRIC_NAME:
        raise field_error("metric", f"A metric name of 1 to {MAX_METRIC_NAME} characters.")
    if optimization not in OPTIMIZATIONS:
        raise field_error("optimization", "Either 'maximize' or 'minimize'.")
    return metric, optimization


def set_objective(access, group_id, metric, optimization):
    """Choose the group's objective (members and up); returns the group."""
    access.require("edit")
    metric, optimization = check_objective(metric, optimization)
    group = load_group(access, group_id, for_update=True)
    group.objective = {"metric": metric, "optimization": optimization}
    db.session.commit()
    return group


def best_query(group_id, objective):
    """The select of (id, value) of the best experiment: the max or min metric, lowest id.

    The best value is the first of the group's index on the metric, read forwards or
    backwards, and the lowest id having it the least of that tie: nothing is sorted, whatever
    the planner believes of the group's size.
    """
    first = aliased(ExperimentValue)
    order = (first.num_value, first.text_value, first.experiment_id)
    best = (
        select(first.num_value)
        .where(*_of_metric(first, group_id, objective.metric))
        .order_by(*[c.desc() if objective.maximize else c.asc() for c in order])
        .limit(1)
        .scalar_subquery()
    )
    value = ExperimentValue.num_value
    return (
        select(func.min(ExperimentValue.experiment_id), value)
        .where(*_of_metric(ExperimentValue, group_id, objective.metric), value == best)
        .group_by(value)
    )


def _of_metric(values, group_id, metric):
    return (
        values.group_id == group_id,
        values.kind == "metric",
        values.name == metric,
        values.num_value.is_not(None),
    )


def best_experiment(group, objective):
    """The group's best experiment for the objective, or None (no objective, no values): 1 query."""
    if objective is None:
        return None
    row = db.session.execute(best_query(group.id, objective)).first()
    return Best(id=row[0], value=row[1]) if row else None
