"""Which part of a group's matrix its experiments covered: two queries whatever its size.

Discrete params (values, ranges, pvalues) make cells: every combination of their values, each
with the experiments that took it. Continuous params are sampled: each gets a strip of the
values its experiments drew.
"""

import json
import math
from dataclasses import dataclass, field
from itertools import product

from dashboard.hptuning import matrix_values
from dashboard.hptuning.options import CONTINUOUS, option_length
from dashboard.services.experiment.experiments import experiment_values
from dashboard.services.group.objective import objective_of
from dashboard.services.lookups import load_group
from dashboard.services.plots.plot_values import number

# Beyond this many combinations the cells are not listed (the strips still are).
MAX_CELLS = 2500
MAX_AXIS_VALUES = 60


@dataclass
class Cell:
    """One combination of discrete values and the experiments that took it (latest last)."""

    values: tuple
    experiments: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    metric: float | None = None

    @property
    def status(self):
        """The status of the latest experiment in the cell; "unvisited" when there is none."""
        return self.statuses[-1] if self.statuses else "unvisited"

    @property
    def count(self):
        return len(self.experiments)


@dataclass(frozen=True)
class Coverage:
    """The coverage map: discrete axes and their cells, continuous strips, the colouring."""

    layout: str  # "grid" (two discrete params), "list" (one, or more than two), "none"
    axes: list  # [(name, [values])] of the discrete params
    cells: list
    strips: list  # [{"name", "low", "high", "points": [(value, status)]}]
    metric: str | None
    optimization: str
    metric_range: tuple | None
    objective_set: bool = True  # False: the metric is the first one reported, higher is darker
    too_many: int | None = None  # the number of combinations when they are not listed
    live: bool = False  # the group still runs: the map refreshes itself

    @property
    def visited(self):
        return sum(1 for cell in self.cells if cell.experiments)

    def grid(self):
        """The cells as rows (first axis) of columns (second axis), for the 2-D layout."""
        width = len(self.axes[1][1])
        return [self.cells[i : i + width] for i in range(0, len(self.cells), width)]

    def shade(self, cell):
        """0..1: how good the cell's metric is within the group's range (1 = best)."""
        if cell.metric is None or self.metric_range is None:
            return None
        low, high = self.metric_range
        if high == low:
            return 1.0
        fraction = (cell.metric - low) / (high - low)
        return fraction if self.optimization == "maximize" else 1.0 - fraction


def _key(value):
    """Values compared as JSON, numbers as floats (1 and 1.0 are the same cell)."""
    as_number = number(value)
    return json.dumps(as_number if as_number is not None else value, sort_keys=True)


def _discrete(option, spec):
    if option == "pvalues":
        return [value for value, _ in spec]
    return matrix_values(option, spec)


def _bounds(option, spec):
    if "low" in spec and option.startswith(("log", "qlog")):
        return math.exp(spec["low"]), math.exp(spec["high"])
    if "low" in spec:
        return spec["low"], spec["high"]
    return None, None  # normal distributions: the samples' own range


def group_coverage(access, group_id):
    """The coverage map of the group's matrix, coloured by status and the objective metric."""
    group = load_group(access, group_id)
    rows = experiment_values(group.id)
    objective = objective_of(group)
    if objective is not None:
        metric, optimization = objective.metric, objective.optimization
    else:
        # No objective: colour by the first metric reported, higher darker (said on the map).
        seen = sorted({name for row in rows for name in row.last_metric or {}})
        metric, optimization = next(iter(seen), None), "maximize"
    matrix = (group.hptuning or {}).get("matrix") or {}
    options = {name: next(iter(entry.items())) for name, entry in matrix.items()}
    discrete = [n for n, (option, _) in options.items() if option not in CONTINUOUS]
    continuous = [n for n, (option, _) in options.items() if option in CONTINUOUS]

    sizes = [option_length(*options[name]) or 0 for name in discrete]
    combinations = math.prod(sizes) if discrete else 0
    listable = discrete and combinations <= MAX_CELLS
    axes = [(name, _discrete(*options[name])) for name in discrete] if listable else []
    cells = [Cell(values) for values in product(*(values for _, values in axes))] if axes else []
    index = {tuple(_key(v) for v in cell.values): cell for cell in cells}
    values_seen = []
    for row in rows:
        params = row.params or {}
        value = number((row.last_metric or {}).get(metric)) if metric else None
        cell = index.get(tuple(_key(params.get(name)) for name in discrete)) if cells else None
        if cell is not None:
            cell.experiments.append(row.id)
            cell.statuses.append(row.status)
            if value is not None:
                better = cell.metric is None or (
                    value > cell.metric if optimization == "maximize" else value < cell.metric
                )
                cell.metric = value if better else cell.metric
        if value is not None:
            values_seen.append(value)

    strips = []
    for name in continuous:
        points = [
            (v, row.status)
            for row in rows
            if (v := number((row.params or {}).get(name))) is not None
        ]
        low, high = _bounds(*options[name])
        if low is None and points:
            low, high = min(p[0] for p in points), max(p[0] for p in points)
        strips.append(
            {
                "name": name,
                "option": options[name][0],
                "low": low,
                "high": high,
                "log": options[name][0] in ("loguniform", "qloguniform", "lognormal", "qlognormal"),
                "points": points,
            }
        )

    two_d = len(axes) == 2 and all(len(v) <= MAX_AXIS_VALUES for _, v in axes)
    layout = "grid" if two_d else ("list" if cells else "none")
    return Coverage(
        layout=layout,
        axes=axes,
        cells=cells,
        strips=strips,
        metric=metric,
        optimization=optimization,
        objective_set=objective is not None,
        metric_range=(min(values_seen), max(values_seen)) if values_seen else None,
        too_many=combinations if discrete and not listable else None,
        live=not group.is_final,
    )
