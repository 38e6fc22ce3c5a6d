"""Cloning a group, and the polyaxonfile of a finer search around its best experiment."""

from dataclasses import dataclass

from dashboard.errors import ValidationError, field_error
from dashboard.extensions import db
from dashboard.hptuning import SpecError
from dashboard.hptuning import around_best as narrowing
from dashboard.models import Experiment, ExperimentGroup
from dashboard.services.group import groups, objective
from dashboard.services.lookups import load_group

DEFAULT_SPREAD = 0.25


def clone_group(access, group_id, *, content=None, name=None, description=None):
    """A new group of the project from `content` (default: the group's own polyaxonfile), with
    every rule of create_group, recorded as cloned from the group; its name is not copied."""
    access.require("create_group")
    original = load_group(access, group_id)
    return groups.create_group(
        access,
        content=original.content if content is None else content,
        name=name,
        description=description,
        cloned_from=original.id,
    )


@dataclass(frozen=True)
class AroundBest:
    """The group's polyaxonfile narrowed around its best experiment, and how."""

    group: ExperimentGroup
    spread: float
    objective: objective.Objective
    best: objective.Best
    content: str
    notes: list


def around_best(access, group_id, spread=None):
    """The group's polyaxonfile with each numeric matrix option narrowed to ± spread × its
    width around the best experiment (by the group's objective, as its page shows it); 400
    for a spread outside (0, 1], a group without an objective or without a best experiment."""
    access.require("read")
    group = load_group(access, group_id)
    try:
        spread = narrowing.parse_spread(DEFAULT_SPREAD if spread is None else spread)
    except SpecError as exc:
        message = exc.errors[0].removeprefix("spread: ")
        raise field_error("spread", f"The spread {message}.") from None
    chosen = objective.objective_of(group)
    if chosen is None:
        raise ValidationError(
            "The group has no objective: choose the metric to optimise on its page first."
        )
    best = objective.best_experiment(group, chosen)
    if best is None:
        raise ValidationError(
            f"No experiment of the group has reported {chosen.metric} yet: there is no best one."
        )
    params = db.session.get(Experiment, best.id).params or {}
    try:
        narrowed = narrowing.around_best(group.content, params, spread)
    except SpecError as exc:
        raise ValidationError(str(exc), fields={"content": list(exc.errors)}) from None
    return AroundBest(group, spread, chosen, best, narrowed.content, narrowed.notes)
