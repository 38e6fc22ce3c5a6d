"""Clones of experiments: the same params run again as a new experiment of the same group,
continuing its original (`original_experiment`, `cloning_strategy` restart, resume or copy).

Retrying a group's failed experiments and the client's restart/resume/copy both make them. A
clone takes its original's place in the search: the same iteration (an asha or hyperband rung),
and the search sees the clone instead of the original (hptuning.trials.in_place_of_originals).
"""

from dashboard.services.experiment.experiments import create_experiments
from dashboard.services.group.statuses import reopen_group

STRATEGIES = ("restart", "resume", "copy")


def create_clones(group, originals, strategy, *, params=None, reason):
    """Create one clone of each experiment of `originals` (rows of the locked `group`), in
    order; a final group goes back to running with `reason` as its status message. `params`
    (one dict per original, or None) replace the originals' params. Returns the new ids; no
    commit."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown cloning strategy {strategy!r}")
    ids = create_experiments(
        group,
        params or [dict(original.params) for original in originals],
        iterations=[original.iteration for original in originals],
        origins=[original.id for original in originals],
        strategy=strategy,
    )
    reopen_group(group, reason)
    return ids
