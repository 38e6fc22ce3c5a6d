"""Hyperband (Li et al. 2018): brackets of successive halving, one iteration per rung.

The schedule is computed with exact rational arithmetic: a float eta is read as the decimal it
was written as (2.5 is 5/2), so s_max = floor(log_eta(R)) is exact (R=243, eta=3 gives 5).

Rung i of bracket s runs n_i = floor(n * eta^-i) configs at resource r_i = R * eta^(i-s), the
paper's definitions. For an integer eta n_{i+1} = floor(n_i / eta), the best of rung i kept; for a
float eta it avoids compounding two floors, which could empty the last rung (R=81, eta=2.5 gives
40, 16, 6, 2, 1 rather than 40, 16, 6, 2, 0). An int resource is r_i rounded half up, at least 1.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

from .base import Iteration, iteration_rng, metric_value, sample_configs, with_params


@dataclass(frozen=True)
class Rung:
    """One rung of a bracket: how many configs run, and with how much resource (exact)."""

    n_configs: int
    resource: Fraction


def exact(number):
    """A number as an exact Fraction; a float is taken as the decimal it prints as."""
    if isinstance(number, float):
        return Fraction(repr(number))
    return Fraction(number)


def s_max(max_iter, eta):
    """floor(log_eta(max_iter)), computed exactly: the largest s with eta^s <= max_iter."""
    R, eta = exact(max_iter), exact(eta)
    s = 0
    while eta ** (s + 1) <= R:
        s += 1
    return s


def bracket(s, max_iter, eta, top=None):
    """The rungs of bracket `s` (s = s_max .. 0); `top` is s_max when known."""
    R, eta = exact(max_iter), exact(eta)
    top = s_max(max_iter, eta) if top is None else top
    n = math.ceil(Fraction(top + 1) * eta**s / (s + 1))  # B/R * eta^s / (s+1), B = (s_max+1) R
    return [Rung(math.floor(n / eta**i), min(R, R / eta ** (s - i))) for i in range(s + 1)]


def schedule(max_iter, eta):
    """Every bracket's rungs, brackets in running order (s = s_max first)."""
    top = s_max(max_iter, eta)
    return [bracket(s, max_iter, eta, top) for s in range(top, -1, -1)]


def total_experiments(max_iter, eta, limit):
    """How many experiments the schedule makes (every rung of every bracket), or None past
    `limit`: counting stops there, so a huge schedule costs no more to refuse than a small one.

    Every rung runs at least one config (n / eta^i >= (s_max + 1) / (s + 1)), so a schedule
    has at least (s_max + 1)(s_max + 2) / 2 experiments: a float estimate of s_max (less one, for
    rounding) refuses an eta barely above 1 before any exact power of it is taken.
    """
    estimate = math.floor(math.log(max_iter) / math.log(eta)) - 1
    if estimate > 0 and (estimate + 1) * (estimate + 2) // 2 > limit:
        return None
    top = s_max(max_iter, eta)
    total = 0
    for s in range(top, -1, -1):
        total += sum(rung.n_configs for rung in bracket(s, max_iter, eta, top))
        if total > limit:
            return None
    return total


def cast_resource(resource, kind):
    """The resource value injected into params: an int rounded half up (at least 1) or a float."""
    if kind == "int":
        return max(1, math.floor(resource + Fraction(1, 2)))
    return float(resource)


def first_iteration(spec):
    """Rung 0 of the first bracket (s = s_max)."""
    block = spec.algorithm_block
    return _new_bracket(spec, s_max(block["max_iter"], block["eta"]), 0)


def next_iteration(spec, last, last_results, all_results):
    """Promote the best of the last rung, or open the next bracket; None after bracket 0."""
    block = spec.algorithm_block
    s, i = last.data["bracket"], last.data["rung"]
    number = last.number + 1
    if i < s:
        rung = bracket(s, block["max_iter"], block["eta"])[i + 1]
        best = top_configs(last_results, rung.n_configs, block["metric"]["optimization"])
        if best:
            return _rung_iteration(spec, number, s, i + 1, rung, best)
    if s == 0:
        return None
    return _new_bracket(spec, s - 1, number)


def top_configs(results, count, optimization):
    """The params of the best `count` results; a missing metric ranks last, ties keep order."""
    sign = -1.0 if optimization == "maximize" else 1.0

    def rank(item):
        value = metric_value(item[1][1])
        return (value is None, 0.0 if value is None else sign * value, item[0])

    ordered = sorted(enumerate(results), key=rank)
    return [params for _, (params, _) in ordered[:count]]


def _new_bracket(spec, s, number):
    block = spec.algorithm_block
    rung = bracket(s, block["max_iter"], block["eta"])[0]
    configs = sample_configs(spec.matrix, rung.n_configs, iteration_rng(spec.seed, number))
    return _rung_iteration(spec, number, s, 0, rung, configs)


def _rung_iteration(spec, number, s, i, rung, configs):
    resource = spec.algorithm_block["resource"]
    value = cast_resource(rung.resource, resource["type"])
    params = [with_params(spec, config, **{resource["name"]: value}) for config in configs]
    data = {"bracket": s, "rung": i, "resource": value, "n_configs": len(params)}
    return Iteration(number, data, params)
