"""ASHA: asynchronous successive halving (Li et al., "A System for Massively Parallel
Hyperparameter Tuning", MLSys 2020), asked for experiments whenever the group has free slots.

Rung k runs configurations at resource min_resource * eta^k while that is below max_resource;
the last rung is max_resource itself. The rung of an experiment is 0 when it is a new
configuration, else one above the rung of the experiment it continues (`Trial.original`).

Results: a rung's results are its finished experiments (succeeded, failed or stopped) whose
metric is a number, each ranked by its latest value; ties go to the older experiment. An
experiment without a metric is no result: it does not count in n and is never promoted. A
failed or stopped experiment with a metric counts in n (a policy-stopped experiment is a bad
result, and leaving it out would slow every promotion) but only a succeeded one is promoted:
continuing an experiment that failed or was stopped as hopeless spends a slot on it again.
"""

import functools
import math

from .base import config_key, iteration_rng, metric_value, sample_configs
from .blocks import parse_metric, parse_resource
from .errors import Problems, SpecError
from .fields import as_int, as_number, check_keys, expect_mapping, short
from .hyperband import cast_resource, exact
from .options import CONTINUOUS
from .trials import FINISHED, Batch

KEYS = (
    "n_experiments",
    "min_resource",
    "max_resource",
    "reduction_factor",
    "resource",
    "metric",
)
REQUIRED = ("n_experiments", "min_resource", "max_resource", "resource", "metric")
# The ASHA paper's and the eta; Ray Tune and Determined default to 4.
DEFAULT_REDUCTION_FACTOR = 3
# A ladder past 100 rungs (eta 2 from 1 to 2^99) is a typo, not a search, and every rung is a
# row of the group page's card; refusing it also bounds the work of every batch.
MAX_RUNGS = 100
# Options whose draws are floats: two equal draws have probability zero, so the configurations
# already started need no keys to be excluded (building them is most of a batch's work).
UNREPEATABLE = tuple(option for option in CONTINUOUS if not option.startswith("q"))


def parse_asha(raw, path):
    """asha: {n_experiments, min_resource, max_resource, reduction_factor, resource, metric}.

    reduction_factor (eta) is optional, default 3: the value of the paper and of the issue, and
    a block without it reads as "halve by thirds" the way hyperband users expect. max_resource
    may equal min_resource (>=, not >): a ladder of one rung is a random search at that
    resource, harmless and what hyperband's max_iter 1 gives too; below it is refused.
    """
    raw = expect_mapping(raw, path)
    check_keys(raw, KEYS, path, required=REQUIRED)
    problems = Problems()
    eta = raw.get("reduction_factor")
    block = {
        "n_experiments": problems.check(
            as_int, raw["n_experiments"], f"{path}.n_experiments", minimum=1
        ),
        "min_resource": problems.check(
            as_number, raw["min_resource"], f"{path}.min_resource", greater_than=0
        ),
        "max_resource": problems.check(
            as_number, raw["max_resource"], f"{path}.max_resource", greater_than=0
        ),
        "reduction_factor": DEFAULT_REDUCTION_FACTOR
        if eta is None
        else problems.check(as_number, eta, f"{path}.reduction_factor", greater_than=1),
        "resource": problems.check(parse_resource, raw["resource"], f"{path}.resource"),
        "metric": problems.check(parse_metric, raw["metric"], f"{path}.metric"),
    }
    low, high = block["min_resource"], block["max_resource"]
    if low is not None and high is not None and high < low:
        problems.add(f"{path}.max_resource", f"must be >= min_resource {low}, got {high}")
    problems.raise_if_any()
    _check_ladder(block, path)
    return block


def _check_ladder(block, path):
    """Refuse a ladder of more than MAX_RUNGS rungs, or one whose int resources repeat."""
    exact_rungs = []
    for resource in _exact_rungs(block):
        exact_rungs.append(resource)
        if len(exact_rungs) > MAX_RUNGS:
            raise SpecError.at(
                f"{path}.reduction_factor",
                f"{short(block['reduction_factor'])} from min_resource "
                f"{short(block['min_resource'])} to max_resource {short(block['max_resource'])} "
                f"makes more than {MAX_RUNGS} rungs; raise reduction_factor",
            )
    kind = block["resource"]["type"]
    values = [cast_resource(resource, kind) for resource in exact_rungs]
    repeated = sorted({a for a, b in zip(values, values[1:], strict=False) if a == b})
    if repeated:
        shown = ", ".join(str(value) for value in values[:12]) + (", ..." * (len(values) > 12))
        raise SpecError.at(
            f"{path}.reduction_factor",
            f"with an int resource the rungs are {shown} (min_resource * eta^k rounded): "
            f"{repeated[0]} repeats; raise reduction_factor or min_resource, or use type float",
        )


def _exact_rungs(block):
    """The rungs' resources as exact Fractions, lazily (a float is read as written)."""
    low, high = exact(block["min_resource"]), exact(block["max_resource"])
    eta = exact(block["reduction_factor"])
    resource = low
    while resource < high:
        yield resource
        resource *= eta
    yield high


def rungs(block):
    """The resources of the rungs of a parsed asha block, cast as hyperband casts them:
    min_resource * eta^k while below max_resource, then max_resource (min 1, max 9, eta 3
    give [1, 3, 9])."""
    fields = ("min_resource", "max_resource", "reduction_factor")
    return list(_cast_rungs(*(block[key] for key in fields), block["resource"]["type"]))


@functools.lru_cache(maxsize=64)
def _cast_rungs(low, high, eta, kind):
    # Exact powers cost more than the rest of a batch; a group asks with the same block.
    block = {"min_resource": low, "max_resource": high, "reduction_factor": eta}
    return tuple(cast_resource(resource, kind) for resource in _exact_rungs(block))


def total_experiments(block):
    """The most experiments a group with this block can ever create.

    n_experiments at rung 0, then every promotion possible. A rung of n results promotes at
    most n - ceil(eta) + 1 configurations over its life, not floor(n / eta): the top
    floor(j / eta) of its first j results changes as results arrive, and a configuration
    that is better than every earlier one is promoted once there are ceil(eta) results. Only
    the ceil(eta) - 1 worst of the rung are never in the top (one of them needs ceil(eta) - 1
    worse results beside it, and floor(j / eta) >= 1 needs j >= ceil(eta)). Results that
    keep improving reach this bound.
    """
    step = math.ceil(exact(block["reduction_factor"])) - 1
    count, total = block["n_experiments"], 0
    for _ in rungs(block):
        if count <= 0:
            break
        total += count
        count -= step
    return total


def next_batch(spec, trials, free):
    """The experiments to start in `free` slots: promotions first, from the highest rung that
    has one, then new configurations at rung 0 until n_experiments have started there.

    A promotion is a configuration in the top floor(n / eta) of its rung's n results that no
    trial (and no other suggestion of this batch) continues yet; its suggestion is its matrix
    params with the next rung's resource, its origin its id. New configurations are drawn
    with the generator of (spec.seed, len(trials)), never repeating a started one while the
    matrix has others; once a finite matrix has none left, no more start.
    """
    block = spec.algorithm_block
    resources = rungs(block)
    ladder = _Ladder(spec, trials, len(resources))
    name = block["resource"]["name"]
    suggestions, origins = [], []
    for k in range(len(resources) - 2, -1, -1):
        for trial in ladder.promotable(k):
            if len(suggestions) == free:
                break
            suggestions.append({**ladder.config(trial), name: resources[k + 1]})
            origins.append(trial.id)
    room = min(free - len(suggestions), block["n_experiments"] - len(ladder.members[0]))
    if room > 0:
        rng = iteration_rng(spec.seed, len(trials))
        for config in sample_configs(spec.matrix, room, rng, exclude=ladder.started_keys()):
            suggestions.append({**config, name: resources[0]})
            origins.append(None)
    rows = ladder.summary(resources, origins)
    # Rungs open from the bottom up, so the highest one started is the count of those opened.
    opened = max((k + 1 for k, row in enumerate(rows) if row["started"]), default=0)
    return Batch(suggestions, origins, iteration=opened, data={"rungs": rows})


def rung_table(spec, trials):
    """Per rung, for the group page's card: its resource and the configurations it holds
    (id, original, status, metric, promoted and promoted_to: the experiment continuing it)."""
    resources = rungs(spec.algorithm_block)
    ladder = _Ladder(spec, trials, len(resources))
    continued_by = {trial.original: trial.id for trial in trials if trial.original is not None}
    return [
        {
            "resource": resource,
            "configurations": [
                {
                    "id": trial.id,
                    "original": trial.original,
                    "status": trial.status,
                    "metric": metric_value(trial.metric),
                    "promoted": trial.id in continued_by,
                    "promoted_to": continued_by.get(trial.id),
                }
                for trial in members
            ],
        }
        for resource, members in zip(resources, ladder.members, strict=True)
    ]


class _Ladder:
    """The group's trials sorted into rungs in one pass: each rung's members, finished count
    and results, and which configurations have been continued already."""

    def __init__(self, spec, trials, count):
        block = spec.algorithm_block
        self.matrix = spec.matrix
        self.eta = exact(block["reduction_factor"])
        sign = -1.0 if block["metric"]["optimization"] == "maximize" else 1.0
        self.members = [[] for _ in range(count)]
        self.results = [[] for _ in range(count)]  # (sign * value, id, trial), to sort
        self.finished = [0] * count
        self.continued, self.rung_of = set(), {}
        for trial in trials:
            rung = 0
            if trial.original is not None:
                self.continued.add(trial.original)
                # An original the search never saw counts as rung -1: the trial starts over.
                rung = min(self.rung_of.get(trial.original, -1) + 1, count - 1)
            self.rung_of[trial.id] = rung
            self.members[rung].append(trial)
            if trial.status in FINISHED:
                self.finished[rung] += 1
                value = metric_value(trial.metric)
                if value is not None:
                    self.results[rung].append((sign * value, trial.id, trial))

    def promotable(self, k):
        """Rung k's configurations that may be promoted now, best first."""
        results = sorted(self.results[k])  # ids are unique: trials themselves never compare
        top = len(results) * self.eta.denominator // self.eta.numerator  # floor(n / eta)
        return [
            trial
            for _, _, trial in results[:top]
            if trial.status == "succeeded" and trial.id not in self.continued
        ]

    def config(self, trial):
        """The matrix params of a trial."""
        return {name: trial.params[name] for name in self.matrix}

    def started_keys(self):
        """The keys of the configurations started at rung 0, for sample_configs to exclude."""
        options = [next(iter(entry)) for entry in self.matrix.values()]
        if all(option in UNREPEATABLE for option in options):
            return ()
        names = list(self.matrix)
        return {config_key(trial.params, names) for trial in self.members[0]}

    def summary(self, resources, origins):
        """Per rung: resource, started, running, finished and promoted, with the batch."""
        added, promoted = [0] * len(resources), [0] * len(resources)
        for origin in origins:
            added[0 if origin is None else self.rung_of[origin] + 1] += 1
        for original in self.continued | set(origins):
            if original in self.rung_of:
                promoted[self.rung_of[original]] += 1
        return [
            {
                "resource": resource,
                "started": len(self.members[k]) + added[k],
                "running": len(self.members[k]) - self.finished[k] + added[k],
                "finished": self.finished[k],
                "promoted": promoted[k],
            }
            for k, resource in enumerate(resources)
        ]
