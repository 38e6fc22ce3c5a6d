"""What an asynchronous search (asha, tpe, cmaes) sees of its group and what it answers.

Hyperband and bo work in iterations: the next one is worked out once every experiment of the
last has finished. Asynchronous searches are asked whenever the group has free slots instead:
`next_batch(spec, trials, free)` of the algorithm's module gets every experiment of the group so
far (Trial, in id order) and the number of experiments it may start now, and answers a Batch of
at most that many. The answer depends on nothing else (a seeded spec gives the same batch for
the same trials), and it writes nothing: the scheduler creates the experiments.
"""

from dataclasses import dataclass, field

FINISHED = ("succeeded", "failed", "stopped")


@dataclass(frozen=True)
class Trial:
    """One experiment of the group as an asynchronous search sees it."""

    id: int
    params: dict  # its matrix params, and for asha the resource param it ran with
    status: str  # created, scheduled, starting, running, succeeded, failed or stopped
    metric: float | None  # the search metric's latest reported value; None: none, or not a number
    original: int | None = None  # the experiment it continues (an asha promotion), else None

    @property
    def finished(self):
        return self.status in FINISHED


@dataclass(frozen=True)
class Batch:
    """The experiments to start now: suggestion i has the matrix params (and for asha the
    resource) `suggestions[i]` and continues experiment `origins[i]` (None: a new configuration).
    `iteration` is the group's current_iteration once they are created (asha: the rungs opened
    so far; tpe and cmaes: the suggestions made so far); `data` is what the group page shows of
    the search's state (JSON-ready). An empty batch means: nothing to start now. The group ends
    when a batch is empty and none of its experiments is unfinished."""

    suggestions: list = field(default_factory=list)
    origins: list = field(default_factory=list)
    iteration: int = 0
    data: dict = field(default_factory=dict)


def in_place_of_originals(rows):
    """What a search sees of a group's experiments once clones take their originals' places.

    `rows` are (id, original, cloning strategy, *rest) in id order. A clone (a retry, restart,
    resume or copy: its strategy is set) replaces its original: the original is left out, the
    clone continues what the original continued (an asha promotion keeps its rung), and an
    experiment that continued the original continues the clone. Returns (id, original, *rest)
    for the experiments left, in id order."""
    replaced = {}  # an experiment -> the clone that took its place

    def latest(experiment_id):
        while experiment_id in replaced:
            experiment_id = replaced[experiment_id]
        return experiment_id

    kept = {}
    for experiment_id, original, strategy, *rest in rows:
        original = latest(original)
        if strategy is not None and original is not None:
            continued = kept.pop(original, None)
            replaced[original] = experiment_id
            original = continued[0] if continued is not None else None
        kept[experiment_id] = (original, *rest)
    return [
        (experiment_id, latest(original), *rest)
        for experiment_id, (original, *rest) in kept.items()
    ]
