"""Restart, resume or copy one experiment: what polyaxon-client 0.6.1's `restart`, `resume` and
`copy` ask (`experiments/{id}/restart/` ...). A clone (clones.create_clones) with the same
params, but for those `content` overrides, running its original's code unless `update_code`.

Where a clone's outputs go is decided when it is launched (services/run/launches.py): a restart
starts empty, a copy starts as a copy of its original's outputs, a resume writes into the folder
its original wrote into (`outputs_owner`). One folder has one writer: an experiment is not
resumed while anything else writes into that folder.
"""

import json
import math
import re

from sqlalchemy import select, update

from dashboard.errors import ValidationError, field_error
from dashboard.extensions import db
from dashboard.hptuning import SpecError
from dashboard.hptuning.loader import load_yaml
from dashboard.models import Experiment
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.services.experiment.clones import create_clones
from dashboard.services.group import events
from dashboard.services.lookups import load_group

MAX_CONTENT_BYTES = 64 * 1024
CONTENT_KEYS = ("version", "kind", "params", "declarations")
DONE = {"restart": "restarted", "resume": "resumed", "copy": "copied"}
# A Python float's repr without a dot (1e-05), which YAML 1.1 reads as a string.
PYTHON_EXPONENT = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+")


def clone_experiment(access, strategy, *, content=None, update_code=False):
    """Restart, resume or copy the experiment of `access` (an ExperimentAccess): a new
    experiment of its group, whose final status goes back to running. Returns it."""
    access.require("clone_experiment")
    group = load_group(access, access.group.id, for_update=True)
    original = access.experiment
    db.session.refresh(original)
    if group.status == "stopping":
        raise ValidationError(
            f"Group {group.id} is stopping: wait until it has stopped, then try again."
        )
    params = {**original.params, **overrides(content, original.params, search_params(group))}
    if strategy == "resume":
        _check_one_writer(group.id, original)
    actor = access.actor
    reason = f"Running again: experiment {original.id} {DONE[strategy]} by {actor.username}."
    (clone_id,) = create_clones(group, [original], strategy, params=[params], reason=reason)
    if not update_code:  # the original's code (None: the latest upload, as it would have run)
        db.session.execute(
            update(Experiment)
            .where(Experiment.id == clone_id)
            .values(code_upload_id=original.code_upload_id)
        )
    events.record(
        group.id,
        user=actor,
        kind=f"experiment_{strategy}",
        message=f"{DONE[strategy].capitalize()} experiment {original.id} as experiment "
        f"{clone_id}{' with the latest code' if update_code else ''}.",
        data={"experiment": clone_id, "original": original.id, "update_code": update_code},
    )
    db.session.commit()
    return db.session.get(Experiment, clone_id)


def search_params(group):
    """The params the group's search decides: its matrix's, and asha's or hyperband's
    resource. A clone takes its original's place in the search and keeps them."""
    hptuning = group.hptuning or {}
    names = set(hptuning.get("matrix") or {})
    block = hptuning.get(group.search_algorithm) or {}
    resource = (block.get("resource") or {}).get("name") if isinstance(block, dict) else None
    return names | ({resource} if resource else set())


def overrides(content, params, fixed):
    """The params `content` changes: its `params` and `declarations` (Polyaxon 0.x's name),
    read as YAML (a Python dict's repr, as the CLI sends, is a YAML flow mapping). Only params
    the experiment has, not those of `fixed`, and only to JSON values."""
    if content is None or content == "":
        return {}
    try:
        data = load_yaml(content, max_bytes=MAX_CONTENT_BYTES)
    except SpecError as exc:
        raise ValidationError(str(exc), fields={"content": list(exc.errors)}) from None
    if not isinstance(data, dict):
        raise field_error(
            "content", "content must be a mapping with params (or declarations) to change."
        )
    unknown = sorted(str(key) for key in data if key not in CONTENT_KEYS)
    if unknown:
        raise field_error(
            "content",
            f"Only params (or declarations) can change when an experiment runs again, not: "
            f"{', '.join(unknown)}.",
        )
    changed = {}
    for key in ("declarations", "params"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(name, str) for name in value):
            raise field_error("content", f"{key} must be a mapping of param names to values.")
        changed.update({name: _python_value(item) for name, item in value.items()})
    for name, value in changed.items():
        _check_param(name, value, params, fixed)
    return changed


def _python_value(value):
    """What the CLI meant by a scalar of a Python repr that YAML 1.1 reads as a string."""
    if isinstance(value, str):
        if PYTHON_EXPONENT.fullmatch(value):
            return float(value)
        if value == "None":
            return None
    if isinstance(value, list):
        return [_python_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _python_value(item) for key, item in value.items()}
    return value


def _check_param(name, value, params, fixed):
    if name not in params:
        known = ", ".join(sorted(params)) or "none"
        raise field_error("content", f"The experiment has no param '{name}' (its params: {known}).")
    if name in fixed and value != params[name]:
        raise field_error(
            "content",
            f"'{name}' is decided by the group's search: a clone takes its original's place "
            f"in the search and keeps its value ({json.dumps(params[name])}).",
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise field_error(
            "content",
            f"'{name}' must be a JSON value (number, string, bool, null, list or "
            f"mapping), got {type(value).__name__}{_nan(value)}.",
        ) from None


def _nan(value):
    return f" {value}" if isinstance(value, float) and not math.isfinite(value) else ""


def _resumes(group_id):
    """{resume clone id: (its original, its status)} of the group: one query."""
    rows = db.session.execute(
        select(Experiment.id, Experiment.original_experiment_id, Experiment.status).where(
            Experiment.group_id == group_id, Experiment.cloning_strategy == "resume"
        )
    ).all()
    return {row.id: (row.original_experiment_id, row.status) for row in rows}


def _owner(experiment_id, resumes):
    seen = set()
    while experiment_id in resumes and experiment_id not in seen:
        seen.add(experiment_id)
        original = resumes[experiment_id][0]
        if original is None:
            break
        experiment_id = original
    return experiment_id


def outputs_owner(experiment):
    """The id of the experiment whose outputs folder `experiment` writes into: its own, or for
    a resume its original's (a resume of a resume: the first one's)."""
    if experiment.cloning_strategy != "resume":
        return experiment.id
    return _owner(experiment.id, _resumes(experiment.group_id))


def _check_one_writer(group_id, original):
    resumes = _resumes(group_id)
    owner = _owner(original.id, resumes)
    status = db.session.scalar(select(Experiment.status).where(Experiment.id == owner))
    writers = [(owner, status)] if status and not EXPERIMENT_STATUSES.is_final(status) else []
    writers += [
        (clone, clone_status)
        for clone, (_, clone_status) in sorted(resumes.items())
        if not EXPERIMENT_STATUSES.is_final(clone_status) and _owner(clone, resumes) == owner
    ]
    if writers:
        writer, status = writers[0]
        raise ValidationError(
            f"Experiment {original.id} cannot be resumed while experiment {writer} writes into "
            f"the same outputs folder (it is {status}): wait until it ends, or stop it."
        )
