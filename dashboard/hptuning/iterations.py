"""Iteration-by-iteration search: the interface the scheduler drives for every algorithm.

`first_iteration(spec)` gives iteration 0; `next_iteration(spec, last, last_results, all_results)`
gives the one after `last`, or None once the search is complete. Grid and random make all their
suggestions in iteration 0; hyperband makes one iteration per rung of each bracket and bo one
iteration of initial random trials, then one per Gaussian-process suggestion.

Each iteration draws from numpy's default generator seeded with (spec seed, iteration number), so
a restarted scheduler reproduces the same suggestions (an unseeded spec is random every time).
"""

import json
import math
from dataclasses import dataclass, field

import numpy as np

from .options import discrete_values, is_finite, sample
from .search import MAX_REPEATED_DRAWS, _decode, _distinct, _fresh, distinct_size, suggestions


class SearchError(Exception):
    """A search that cannot go on (e.g. no experiment reported the metric); fails the group."""


@dataclass(frozen=True)
class Iteration:
    """One iteration of a search: its number, JSON state and the params of its experiments."""

    number: int
    data: dict
    suggestions: list[dict] = field(default_factory=list)


def first_iteration(spec):
    """Iteration 0 of the group's search."""
    if spec.search_algorithm in ("grid", "random"):
        return Iteration(0, {"kind": "all"}, [with_params(spec, s) for s in suggestions(spec)])
    return _algorithm(spec).first_iteration(spec)


def next_iteration(spec, last, last_results, all_results):
    """The iteration after `last` given (params, metric or None) results; None when complete."""
    if spec.search_algorithm in ("grid", "random"):
        return None
    return _algorithm(spec).next_iteration(spec, last, list(last_results), list(all_results))


def iteration_after(spec, last, results):
    """The iteration after `last` (None: the first) given every (params, metric, iteration
    number) result of the group; None once the search is complete."""
    if last is None:
        return first_iteration(spec)
    return next_iteration(spec, last, [(p, m) for p, m, n in results if n == last.number],
                          [(p, m) for p, m, _ in results])


def work_out(request):
    """The answer to a search request: the next iteration of a group, as JSON-ready data.

    `request` is {"content": polyaxonfile, "last": None or {"number", "data"}, "results":
    [[params, metric, iteration number], ...]}; results need only their matrix params. The
    answer is {"ok": None} once the search is complete, else {"ok": {"number", "data",
    "params", "suggestions"}}: the group's params once, each suggestion without them (an
    experiment's params are {**params, **suggestion}), so 10,000 suggestions never repeat a
    large params block. Raises what the search raises (SearchError, SpecError...).
    """
    from .spec import parse_group_spec

    spec = parse_group_spec(request["content"], max_experiments=None, check_template=False)
    last = request["last"]
    if last is not None:
        last = Iteration(last["number"], last["data"] or {})
    iteration = iteration_after(spec, last, request["results"])
    if iteration is None:
        return {"ok": None}
    suggestions = [{k: v for k, v in s.items() if k not in spec.params}
                   for s in iteration.suggestions]
    return {"ok": {"number": iteration.number, "data": iteration.data, "params": spec.params,
                   "suggestions": suggestions}}


def iteration_of(answer):
    """The Iteration of an {"ok": ...} answer of `work_out`; None once the search is complete."""
    ok = answer["ok"]
    if ok is None:
        return None
    params = ok["params"]
    return Iteration(ok["number"], ok["data"], [{**params, **s} for s in ok["suggestions"]])


def _algorithm(spec):
    # Imported here: hyperband and bo build on the helpers of this module.
    from . import bo, hyperband

    return {"hyperband": hyperband, "bo": bo}[spec.search_algorithm]


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
