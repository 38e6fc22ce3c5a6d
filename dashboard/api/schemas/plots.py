"""The data behind a group's plots, declared for the OpenAPI document."""

from typing import Any, Literal

from dashboard.api.schemas.base import Response


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


class PlotOut(Response):
    """One plot's data: the common keys, then those of its kind (absent when not applicable).

    metric is the group's objective unless asked for; with no objective, the first metric
    reported. optimization_source says where optimization (and so each "best") comes from: the
    user's objective, the spec, or "assumed" (maximize) when nothing says which way is better.
    note is a sentence for people: no objective set, or the metric shown has no known direction.
    The metric, parallel and scatter plots say how many experiments have a value of the metric
    (total) and whether their points are a sample of them (sampled: past 2,000, one point per
    equal stretch of the completion order, the last one always; order and best stay exact).
    """

    plot: Literal[
        "metric", "parallel", "scatter", "hyperband", "asha", "bo", "tpe", "cmaes", "importance"
    ]
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
