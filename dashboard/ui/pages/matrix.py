"""The hptuning section of a group's spec in readable form (the group page's matrix card)."""

import json
import math
from dataclasses import dataclass

from dashboard.hptuning import matrix_values
from dashboard.hptuning.blocks import ALGORITHMS
from dashboard.hptuning.options import discrete_values, option_length
from dashboard.hptuning.search import grid_size
from dashboard.services.group.groups import MAX_CONCURRENCY, MIN_CONCURRENCY
from dashboard.ui.pages.formatting import display_value

# Ranges longer than this show their first values and their last one.
MAX_SHOWN_VALUES = 12


@dataclass(frozen=True)
class MatrixRow:
    """One param of the matrix: its option, normalised spec, and values or distribution."""

    name: str
    option: str
    spec_text: str
    values: list | None
    size: int | None
    description: str | None
    hint: str | None = None

    @property
    def hidden(self):
        """How many values are left out of `values` (a long range shows its ends)."""
        return 0 if self.values is None or self.size is None else self.size - len(self.values)


@dataclass(frozen=True)
class MatrixView:
    """The hptuning section in readable form."""

    algorithm: str
    settings: list
    concurrency: int
    seed: int | None
    early_stopping: list
    rows: list
    grid_size: int | None
    concurrency_range: tuple = (MIN_CONCURRENCY, MAX_CONCURRENCY)


DISTRIBUTIONS = {
    "uniform": "uniform between {low} and {high}",
    "quniform": "uniform between {low} and {high}, rounded to a multiple of {q}",
    "loguniform": "log-uniform: exp(U({low}, {high}))",
    "qloguniform": "log-uniform: exp(U({low}, {high})), rounded to a multiple of {q}",
    "normal": "normal: mean {loc}, standard deviation {scale}",
    "qnormal": "normal: mean {loc}, standard deviation {scale}, rounded to a multiple of {q}",
    "lognormal": "log-normal: exp(N({loc}, {scale}))",
    "qlognormal": "log-normal: exp(N({loc}, {scale})), rounded to a multiple of {q}",
}
# The spec's block of each search algorithm (grid -> grid_search...).
ALGORITHM_BLOCKS = {algorithm: block for block, algorithm in ALGORITHMS.items()}


def _spec_text(spec):
    if isinstance(spec, dict):
        return ", ".join(f"{key}={_setting_text(value)}" for key, value in spec.items())
    return json.dumps(spec)


def _setting_text(value):
    if value is None:
        return "not set"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_setting_text(v)}" for key, v in value.items())
    return display_value(value)


def _values_shown(option, spec, size):
    if size <= MAX_SHOWN_VALUES:
        return [display_value(v) for v in matrix_values(option, spec)]
    values = discrete_values(option, spec)
    head = [values[i] for i in range(MAX_SHOWN_VALUES - 1)]
    return [display_value(v) for v in head + [values[size - 1]]]


def matrix_row(name, option, spec):
    """One param of the normalised matrix, described for people."""
    size = option_length(option, spec)
    if option == "pvalues":
        description = "one of " + ", ".join(
            f"{display_value(value)} (p={display_value(p)})" for value, p in spec
        )
        return MatrixRow(name, option, _spec_text(spec), None, size, description)
    if option in DISTRIBUTIONS:
        text = DISTRIBUTIONS[option].format(**{k: display_value(v) for k, v in spec.items()})
        if option in ("loguniform", "qloguniform"):
            low, high = (display_value(math.exp(spec[k]), 3) for k in ("low", "high"))
            return MatrixRow(
                name, option, _spec_text(spec), None, None, text, f"values from {low} to {high}"
            )
        return MatrixRow(name, option, _spec_text(spec), None, None, text)
    values = _values_shown(option, spec, size) if size else []
    return MatrixRow(name, option, _spec_text(spec), values, size, None)


def _stopping_text(rule):
    sign = "≥" if rule["optimization"] == "maximize" else "≤"
    optimization = rule["optimization"]
    parts = []
    if rule.get("value") is not None:
        value = display_value(rule["value"])
        parts.append(f"stop when {rule['metric']} {sign} {value} ({optimization})")
    policy = rule.get("policy")
    if policy:
        every = policy["evaluation_interval"]
        text = f"{policy['kind']} policy every {every} evaluation{'s' if every != 1 else ''}"
        if "percent" in policy:
            text += f", {policy['percent']}%"
        if not parts:
            text = f"{rule['metric']} ({optimization}): {text}"
        parts.append(text)
    return "; ".join(parts)


def matrix_view(hptuning, algorithm):
    """The algorithm, its settings, concurrency, seed, early stopping and one row per param."""
    block = hptuning.get(ALGORITHM_BLOCKS.get(algorithm, ""), None) or {}
    matrix = hptuning.get("matrix") or {}
    rows = [matrix_row(name, *next(iter(entry.items()))) for name, entry in matrix.items()]
    return MatrixView(
        algorithm=algorithm,
        settings=[(key.replace("_", " "), _setting_text(value)) for key, value in block.items()],
        concurrency=hptuning.get("concurrency", 1),
        seed=hptuning.get("seed"),
        early_stopping=[_stopping_text(rule) for rule in hptuning.get("early_stopping") or []],
        rows=rows,
        grid_size=grid_size(matrix) if matrix else None,
    )
