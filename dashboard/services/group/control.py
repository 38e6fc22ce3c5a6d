"""Control of a search's life beside stop (EXTENSIONS.md section 2): pause and resume, retry
its failed or stopped experiments, extend it by N experiments.

Pausing holds everything new: the runner claims experiments of running groups only and the
scheduler advances (suggests, promotes, finishes) only created, running and stopping groups, so
a paused group's pending experiments and next suggestions wait, while those already running run
on. Retry and extend reopen a final group (statuses.reopen_group), whose earlier end stays in
its history.
"""

from flask import current_app
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from dashboard.errors import ValidationError, field_error
from dashboard.extensions import db
from dashboard.hptuning import SpecError
from dashboard.hptuning.extension import (
    accepted_spec,
    extended,
    more_suggestions,
    most_experiments,
    why_not,
)
from dashboard.models import Experiment
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.permissions import CONTINUABLE
from dashboard.services.experiment import experiments as experiment_service
from dashboard.services.experiment.clones import create_clones
from dashboard.services.group import events, statuses
from dashboard.services.lookups import load_group

RETRY_DEFAULT = ("failed", "stopped")
UPFRONT = ("grid", "random")  # extended at once; the other searches make theirs as asked


def pause_group(access, group_id):
    """Pause a running group: nothing new starts in it until it is resumed."""
    access.require("control")
    group = load_group(access, group_id, for_update=True)
    _require_status(group, "pause", ("running",))
    statuses.set_group_status(group, "paused", f"Paused by {access.actor.username}.")
    events.record(group.id, user=access.actor, kind="pause")
    db.session.commit()
    return group


def resume_group(access, group_id):
    """Resume a paused group: what it held starts as its concurrency allows."""
    access.require("control")
    group = load_group(access, group_id, for_update=True)
    _require_status(group, "resume", ("paused",))
    statuses.set_group_status(group, "running", f"Resumed by {access.actor.username}.")
    events.record(group.id, user=access.actor, kind="resume")
    db.session.commit()
    return group


def retry_group(access, group_id, *, statuses_to_retry=RETRY_DEFAULT):
    """Retry each experiment of the group in `statuses_to_retry` that no clone continues yet
    (the latest of each chain): a new experiment with its params in its place. Returns the new
    experiments' ids."""
    access.require("control")
    wanted = _final_statuses(statuses_to_retry)
    group = load_group(access, group_id, for_update=True)
    _require_status(group, "retry", CONTINUABLE)
    clone = aliased(Experiment)
    originals = db.session.scalars(
        select(Experiment)
        .where(
            Experiment.group_id == group.id,
            Experiment.status.in_(wanted),
            ~exists().where(
                and_(
                    clone.original_experiment_id == Experiment.id,
                    clone.cloning_strategy.is_not(None),
                )
            ),
        )
        .order_by(Experiment.id)
    ).all()
    if not originals:
        raise field_error(
            "statuses", f"No experiment of the group is {' or '.join(wanted)} and not retried yet."
        )
    _check_room(group, len(originals), "statuses")
    who = access.actor.username
    noun = "experiment" if len(originals) == 1 else "experiments"
    ids = create_clones(
        group,
        originals,
        "restart",
        reason=f"Running again: {len(originals)} {noun} retried by {who}.",
    )
    events.record(
        group.id,
        user=access.actor,
        kind="retry",
        message=f"Retried {len(ids)} {' or '.join(wanted)} {noun}.",
        data={"experiments": ids},
    )
    db.session.commit()
    return ids


def extend_group(access, group_id, *, n_experiments):
    """Extend the group's search by `n_experiments`: grid and random ones are created now (their
    ids are returned), the other searches make theirs as the scheduler asks (none returned)."""
    access.require("control")
    if isinstance(n_experiments, bool) or not isinstance(n_experiments, int) or n_experiments < 1:
        raise field_error(
            "n_experiments",
            f"Extend by a whole number of experiments (at least 1), not '{n_experiments!s:.20}'.",
        )
    group = load_group(access, group_id, for_update=True)
    spec = accepted_spec(group.content, group.extended_by or 0)
    reason = why_not(spec)
    if reason is not None:
        raise field_error(
            "n_experiments", f"A {spec.search_algorithm} group cannot be extended: {reason}."
        )
    _require_status(group, "extend", CONTINUABLE)
    _check_room(group, n_experiments, "n_experiments")
    ids = []
    try:
        if spec.search_algorithm in UPFRONT:
            existing = [
                params for _, _, params, _ in experiment_service.experiment_values(group.id)
            ]
            suggestions = more_suggestions(spec, n_experiments, existing)
            ids = experiment_service.create_experiments(
                group, [{**spec.params, **suggestion} for suggestion in suggestions]
            )
        else:
            _check_most(extended(spec, n_experiments))
    except SpecError as exc:  # messages of hptuning.extension, each "n_experiments: ..."
        messages = [_sentence(error.partition(": ")[2]) for error in exc.errors]
        raise ValidationError(messages[0], fields={"n_experiments": messages}) from None
    group.extended_by = (group.extended_by or 0) + n_experiments
    statuses.reopen_group(
        group, f"Running again: extended by {n_experiments} by {access.actor.username}."
    )
    events.record(
        group.id,
        user=access.actor,
        kind="extend",
        message=f"Extended the search by {n_experiments}.",
        data={"n_experiments": n_experiments, "experiments": ids},
    )
    db.session.commit()
    return ids


def _require_status(group, action, allowed):
    if group.status not in allowed:
        which = allowed[0] if len(allowed) == 1 else f"{', '.join(allowed[:-1])} or {allowed[-1]}"
        raise field_error(
            "status", f"A {group.status} group cannot be {_PAST[action]}; only a {which} one can."
        )


_PAST = {"pause": "paused", "resume": "resumed", "retry": "retried", "extend": "extended"}


def _final_statuses(values):
    values = list(dict.fromkeys(values))
    if not values:
        raise field_error("statuses", "Give at least one experiment status to retry.")
    for value in values:
        if not EXPERIMENT_STATUSES.is_final(value):
            finals = ", ".join(sorted(EXPERIMENT_STATUSES.final))
            raise field_error(
                "statuses", f"'{value}' is not a final experiment status (one of: {finals})."
            )
    return values


def _sentence(text):
    return f"{text[:1].upper()}{text[1:]}."


def _check_room(group, adding, field):
    """Refuse more experiments than the per-group cap allows (an error at `field`)."""
    cap = current_app.config["MAX_EXPERIMENTS_PER_GROUP"]
    count = db.session.scalar(select(func.count()).where(Experiment.group_id == group.id))
    if count + adding > cap:
        raise field_error(
            field,
            f"The group has {count} experiments and at most {cap} are allowed; "
            f"{max(cap - count, 0)} more can be added.",
        )


def _check_most(spec):
    """Refuse an extension whose search could make more experiments than the cap allows."""
    cap = current_app.config["MAX_EXPERIMENTS_PER_GROUP"]
    most = most_experiments(spec)
    if most is not None and most > cap:
        raise SpecError.at(
            "n_experiments",
            f"the extended search could make up to {most} experiments (promotions included), "
            f"at most {cap} are allowed",
        )
