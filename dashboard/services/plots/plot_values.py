"""The experiments and their values as the plots see them (the experiment page and the coverage
map read metric values the same way)."""

import json
import math
from dataclasses import dataclass

from dashboard.models.statuses import EXPERIMENT_STATUSES


@dataclass(frozen=True)
class Result:
    """One experiment as the plots see it: params, its value of the metric, and for a sampled
    one its place among those with a value (order, from 1) and the best value up to it."""

    id: int
    status: str
    params: dict
    value: float | None
    iteration: int | None
    order: int | None = None
    best: float | None = None

    @property
    def finished(self):
        return EXPERIMENT_STATUSES.is_final(self.status)


def number(value):
    """A finite float, or None for anything else (booleans, text, NaN)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def param_kind(results, name):
    """ "numeric" when every value of the param is a number, else "categorical"."""
    present = [r.params[name] for r in results if name in r.params]
    return "numeric" if present and all(number(v) is not None for v in present) else "categorical"


def category(value):
    """A categorical value as the label plots show."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
