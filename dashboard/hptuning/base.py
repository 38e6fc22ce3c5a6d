"""What the iterative searches (hyperband, bo) build on, below the driver in iterations.py: the
Iteration and SearchError, the seeded generator of an iteration, an experiment's params, metric
values and distinct random configs of a matrix.
"""

import json
import math
from dataclasses import dataclass, field

import numpy as np

from .options import discrete_values, is_finite, sample
from .search import MAX_REPEATED_DRAWS, _decode, _distinct, _fresh, distinct_size


class SearchError(Exception):
    """A search that cannot go on (e.g. no experiment reported the metric); fails the group."""


@dataclass(frozen=True)
class Iteration:
    """One iteration of a search: its number, JSON state and the params of its experiments."""

    number: int
    data: dict
    suggestions: list[dict] = field(default_factory=list)


def iteration_rng(seed, number):
    """numpy's default generator for iteration `number` of a group seeded with `seed`."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([abs(seed), int(seed < 0), number])


def with_params(spec, suggestion, **extra):
    """An experiment's params: the group's params, then the suggestion, then `extra`."""
    return {**spec.params, **suggestion, **extra}


def metric_value(value):
    """The metric as a float, or None when it is missing or not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def config_key(params, names):
    """A hashable identity of the matrix part of `params` (values compared as JSON)."""
    return json.dumps([params.get(name) for name in names], sort_keys=True)


def sample_configs(matrix, count, rng, exclude=()):
    """Up to `count` distinct random configs of the matrix, none of whose keys is in `exclude`.

    Fewer come back only when a matrix of finite options has fewer distinct configs left.
    """
    names = list(matrix)
    options = [next(iter(entry.items())) for entry in matrix.values()]
    seen = set(exclude)
    cap = distinct_size(matrix)
    if cap is not None and count + len(seen) >= cap:
        # Small finite space: walk its combinations in a random order, skipping excluded ones.
        columns = [_distinct(option, spec) for option, spec in options]
        found = []
        for index in rng.permutation(cap):
            config = dict(zip(names, _decode(int(index), columns), strict=True))
            if config_key(config, names) not in seen:
                found.append(config)
                if len(found) == count:
                    break
        return found
    columns = [
        discrete_values(option, spec) if is_finite(option) and option != "pvalues" else None
        for option, spec in options
    ]
    found, repeats = [], 0
    while len(found) < count and repeats <= MAX_REPEATED_DRAWS:
        config = {
            name: _fresh(sample(option, spec, rng, values))
            for name, (option, spec), values in zip(names, options, columns, strict=True)
        }
        key = config_key(config, names)
        if key in seen:
            repeats += 1
            continue
        repeats = 0
        seen.add(key)
        found.append(config)
    return found
