"""The data behind a group's plots, declared for the OpenAPI document."""

from typing import Any, Literal

from dashboard.api.schemas.base import Response
from dashboard.services.plots.plots import PLOTS


class PlotNamesOut(Response):
    plots: list[str]


# The plot bodies below are built as plain dicts by services/plots.py (the 10,000-experiment
# groups are served without a validation pass); they are declared here for the OpenAPI
# document, and the tests check real plot data against them. Keys a plot lacks are left out.
JSONValue = Any


class MetricPointOut(Response):
    experiment: int
    order: int
    value: float
    best: float


class AxisOut(Response):
    name: str
    kind: Literal["numeric", "categorical"]
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None


class LineOut(Response):
    experiment: int
    value: float
    params: dict[str, JSONValue]


class ScatterPointOut(Response):
    experiment: int
    x: float | str
    value: float


class ScatterParamOut(AxisOut):
    points: list[ScatterPointOut]


class RungOut(Response):
    iteration: int
    rung: int | None
    resource: JSONValue
    n_configs: int | None
    experiments: int
    finished: int
    promoted: int
    best: float | None


class BracketOut(Response):
    bracket: JSONValue
    rungs: list[RungOut]


class SuggestionOut(Response):
    experiment: int
    suggestion: int
    iteration: int
    kind: str | None
    value: float | None
    best: float | None


class FeatureOut(Response):
    name: str
    importance: float
    std: float


class CurveOut(Response):
    id: int
    status: str | None
    best: bool
    points: list[tuple[int, float]]


class ContourAxisOut(Response):
    name: str
    log: bool
    values: list[JSONValue] | None = None
    edges: list[float] | None = None


class PlotOut(Response):
    """One plot's data: the common keys, then those of its kind (absent when not applicable).

    metric is the group's objective unless asked for; with no objective, the first metric
    reported. optimization_source says where optimization (and so each "best") comes from: the
    user's objective, the spec, or "assumed" (maximize) when nothing says which way is better.
    note is a sentence for people: no objective set, or the metric shown has no known direction.
    The metric, parallel and scatter plots say how many experiments have a value of the metric
    (total) and whether their points are a sample of them (sampled: past 2,000, one point per
    equal stretch of the completion order, the last one always; order and best stay exact).
    curves: each drawn experiment's reports of the metric, [n, value] with n counting its
    reports from 1; at most 200 experiments (the 50 best, then a sample seeded by the group),
    each at most 200 points (first, last, lowest, highest, evenly between). contour (?x=, ?y=
    two params; by default the two most important): the best value and count of experiments
    per cell [i, j, best, count], i and j indexing x's and y's values (discrete params) or bins
    between edges (continuous ones: at most 20, in log space for log options), with the best
    experiment of each cell (ties: the lowest id) and the params that can be chosen; every
    experiment with a value (total) is binned, none sampled. edf: the values in increasing
    order (at most 1,000: quantiles past that) and the fraction of experiments at or below each.
    """

    plot: Literal[PLOTS]
    metric: str | None
    optimization: Literal["maximize", "minimize"]
    metrics: list[str]
    applicable: bool
    message: str | None
    optimization_source: Literal["user", "spec", "assumed"]
    note: str | None
    total: int | None = None
    sampled: bool | None = None
    points: list[MetricPointOut] | list[SuggestionOut] | None = None
    axes: list[AxisOut] | None = None
    lines: list[LineOut] | None = None
    params: list[ScatterParamOut] | None = None
    resource: str | None = None
    brackets: list[BracketOut] | None = None
    features: list[FeatureOut] | None = None
    method: str | None = None
    fit_r2: float | None = None
    drawn: int | None = None
    experiments: list[CurveOut] | None = None
    x: ContourAxisOut | None = None
    y: ContourAxisOut | None = None
    cells: list[tuple[int, int, float, int]] | None = None
    cell_experiments: list[int] | None = None
    choices: list[str] | None = None
    values: list[float] | None = None
    fractions: list[float] | None = None
