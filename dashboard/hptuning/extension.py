"""Extending a search by N experiments (EXTENSIONS.md section 2, POST .../extend).

The group's polyaxonfile stays as submitted; the group stores how far it was extended and every
search reads its spec through `extended(spec, by)`, whose budget is raised by that much: grid
and random experiments are created at once (`more_suggestions`), the others come as the search
asks (bo's iterations, tpe's and cmaes' suggestions, asha's configurations at rung 0).
"""

import copy
import dataclasses
import itertools

from .asha import total_experiments as asha_total_experiments
from .base import config_key
from .errors import SpecError
from .search import _grid, _random, distinct_size, grid_size
from .spec import parse_group_spec

# Which field of the algorithm's block holds its budget.
BUDGETS = {
    "grid": ("grid_search", "n_experiments"),
    "random": ("random_search", "n_experiments"),
    "bo": ("bo", "n_iterations"),
    "tpe": ("tpe", "n_experiments"),
    "cmaes": ("cmaes", "n_experiments"),
    "asha": ("asha", "n_experiments"),
}
NOT_EXTENDABLE = {
    "hyperband": (
        "hyperband's brackets are fixed by max_iter and eta, so more experiments cannot be "
        "added to them; clone the group with a larger max_iter instead"
    ),
}


def accepted_spec(content, extended_by=0):
    """The spec of a group accepted before (no cap, no sample render: see parse_group_spec),
    its search's budget raised by how far the group was extended."""
    spec = parse_group_spec(content, max_experiments=None, check_template=False)
    return extended(spec, extended_by)


def why_not(spec):
    """Why the group's search cannot be extended (None: it can)."""
    return NOT_EXTENDABLE.get(spec.search_algorithm)


def extended(spec, by):
    """The spec with its search's budget raised by `by` experiments (the spec itself if 0)."""
    if not by or spec.search_algorithm not in BUDGETS:
        return spec
    block_name, key = BUDGETS[spec.search_algorithm]
    hptuning = copy.deepcopy(spec.hptuning)
    block = hptuning[block_name]
    if spec.search_algorithm == "grid":
        block[key] = _planned(spec) + by
    else:
        block[key] += by
    num_experiments = spec.num_experiments
    if spec.search_algorithm == "grid":
        num_experiments = min(block[key], spec.num_combinations)
    elif spec.search_algorithm == "random":
        cap = distinct_size(spec.matrix)
        num_experiments = block[key] if cap is None else min(block[key], cap)
    elif spec.search_algorithm in ("tpe", "cmaes"):
        num_experiments = block[key]
    return dataclasses.replace(spec, hptuning=hptuning, num_experiments=num_experiments)


def _planned(spec):
    """How many experiments a grid or random spec makes."""
    if spec.num_experiments is not None:
        return spec.num_experiments
    return grid_size(spec.matrix)


def more_suggestions(spec, by, existing):
    """The `by` new suggestions (matrix params) of a grid or random group extended by that much,
    `spec` being its spec as extended so far and `existing` its experiments' params: the grid's
    next combinations in order, or random's next distinct draws of the same seeded stream.
    Raises SpecError (at n_experiments) when fewer than `by` are left."""
    matrix = spec.matrix
    names = list(matrix)
    planned = _planned(spec)
    if spec.search_algorithm == "grid":
        left = spec.num_combinations - planned
        _check_left(spec, by, left, f"the grid has {spec.num_combinations} combinations")
        return list(itertools.islice(_grid(matrix, planned + by), planned, None))
    seen = {config_key(params, names) for params in existing}
    cap = distinct_size(matrix)
    if cap is not None:
        _check_left(spec, by, cap - len(seen), f"the matrix has {cap} distinct configurations")
    count = len(seen) + by if cap is None else min(len(seen) + by, cap)
    fresh = []
    for suggestion in _random(matrix, count, spec.seed):
        key = config_key(suggestion, names)
        if key not in seen:
            seen.add(key)
            fresh.append(suggestion)
            if len(fresh) == by:
                break
    return fresh


def _check_left(spec, by, left, what):
    if by > left:
        left_text = "none is left" if left <= 0 else f"only {left} are left"
        raise SpecError.at(
            "n_experiments", f"{what} and {left_text} to run; extend by at most {max(left, 0)}"
        )


def most_experiments(spec):
    """The most experiments the (extended) spec can make, promotions included (None: not known
    before it runs)."""
    if spec.search_algorithm == "asha":
        return asha_total_experiments(spec.algorithm_block)
    if spec.search_algorithm == "bo":
        block = spec.algorithm_block
        return block["n_initial_trials"] + block["n_iterations"]
    return spec.num_experiments
