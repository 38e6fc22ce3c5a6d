"""Grid and random suggestions: lazy, reproducible, plain Python values."""

import copy
import json
import math

import numpy as np

from .errors import SpecError
from .options import discrete_values, is_finite, option_length, sample

# How many draws in a row may repeat earlier suggestions before random search gives up.
MAX_REPEATED_DRAWS = 10_000


def grid_size(matrix):
    """Number of combinations of a normalised matrix, or None if an option is continuous."""
    lengths = [option_length(option, spec) for option, spec in _options(matrix)]
    return None if None in lengths else math.prod(lengths)


def distinct_size(matrix):
    """How many distinct suggestions a matrix of finite options can make (None if unbounded)."""
    if not all(is_finite(option) for option, _ in _options(matrix)):
        return None
    return math.prod(len(_distinct(option, spec)) for option, spec in _options(matrix))


def suggestions(spec):
    """Yield the suggestions (param name -> value) of a grid or random group, lazily."""
    if spec.search_algorithm == "grid":
        return _grid(spec.hptuning["matrix"], spec.num_experiments)
    if spec.search_algorithm == "random":
        return _random(spec.hptuning["matrix"], spec.num_experiments, spec.seed)
    raise NotImplementedError(f"{spec.search_algorithm} suggestions are not implemented yet")


def make_rng(seed):
    """numpy's default generator for `seed` (a negative seed is mapped, numpy refuses those)."""
    if seed is not None and seed < 0:
        return np.random.default_rng([-seed, 1])
    return np.random.default_rng(seed)


def _options(matrix):
    return [next(iter(entry.items())) for entry in matrix.values()]


def _grid(matrix, count):
    names = list(matrix)
    columns = [discrete_values(option, spec) for option, spec in _options(matrix)]
    for index in range(count):
        yield dict(zip(names, _decode(index, columns), strict=True))


def _decode(index, columns):
    """Mixed-radix digits of `index`, the first column varying slowest."""
    values = []
    for column in reversed(columns):
        index, digit = divmod(index, len(column))
        values.append(_fresh(column[digit]))
    return reversed(values)


def _random(matrix, count, seed):
    rng = make_rng(seed)
    names = list(matrix)
    options = _options(matrix)
    cap = distinct_size(matrix)
    if cap is not None and count >= cap:
        yield from _shuffled_product(names, options, rng, cap)
        return
    columns = [
        discrete_values(option, spec) if is_finite(option) and option != "pvalues" else None
        for option, spec in options
    ]
    seen = set()
    repeats = 0
    while len(seen) < count:
        suggestion = {
            name: _fresh(sample(option, spec, rng, values))
            for name, (option, spec), values in zip(names, options, columns, strict=True)
        }
        key = json.dumps(suggestion, sort_keys=True)
        if key in seen:
            repeats += 1
            if repeats > MAX_REPEATED_DRAWS:
                raise SpecError.at(
                    "hptuning.random_search.n_experiments",
                    f"only {len(seen)} distinct suggestions were found after "
                    f"{MAX_REPEATED_DRAWS} repeated draws; lower n_experiments",
                )
            continue
        repeats = 0
        seen.add(key)
        yield suggestion


def _fresh(value):
    # A list or mapping value is copied so no two suggestions share (and mutate) one object.
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


def _shuffled_product(names, options, rng, cap):
    """Every distinct combination once, in a random order."""
    columns = [_distinct(option, spec) for option, spec in options]
    for index in rng.permutation(cap):
        yield dict(zip(names, _decode(int(index), columns), strict=True))


def _distinct(option, spec):
    """The distinct outcomes of a finite option, in written order (distinct by JSON value)."""
    values = [value for value, _ in spec] if option == "pvalues" else discrete_values(option, spec)
    if not isinstance(values, list):
        return values  # a huge lazy range: its steps are far apart enough to be distinct
    unique = {}
    for value in values:
        unique.setdefault(json.dumps(value, sort_keys=True), value)
    return list(unique.values())
