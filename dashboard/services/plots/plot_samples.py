"""The plots of the group's sample of experiments (services.plots.plots reads it): the metric per
experiment in completion order, parallel coordinates, and one scatter per param."""

import json

from dashboard.services.plots.plot_values import category, param_kind


def _hashable(value):
    # Texts and numbers are their own keys; lists and dicts are keyed by their JSON.
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return (type(value), value)


def axis_names(group, distinct):
    """The params drawn as axes, in order: the matrix params first, then any other taking more
    than one value, sorted. distinct: {param name: how many values it takes} (those present)."""
    matrix = list((group.hptuning or {}).get("matrix") or {})
    others = sorted(name for name, n in distinct.items() if name not in matrix and n > 1)
    return [name for name in matrix if name in distinct] + others


def _param_names(group, results):
    values = {}
    for result in results:
        for name, value in result.params.items():
            values.setdefault(name, set()).add(_hashable(value))
    return axis_names(group, {name: len(taken) for name, taken in values.items()})


def metric_plot(read):
    """The metric of each sampled experiment in completion order, and the best value so far."""
    return {
        "points": [
            {"experiment": r.id, "order": r.order, "value": r.value, "best": r.best}
            for r in read.sample[0]
        ]
    }


def param_axes(group, results):
    """One axis per param the results span: numeric (min, max) or categorical (sorted labels)."""
    axes = []
    for name in _param_names(group, results):
        kind = param_kind(results, name)
        values = [r.params[name] for r in results if name in r.params]
        if kind == "numeric":
            numbers = [float(v) for v in values]
            axes.append({"name": name, "kind": kind, "min": min(numbers), "max": max(numbers)})
        else:
            categories = sorted({category(v) for v in values})
            axes.append({"name": name, "kind": kind, "categories": categories})
    return axes


def parallel_plot(read):
    """One line per sampled experiment: its value of the metric and its params."""
    scored, axes = read.scored
    names = [axis["name"] for axis in axes]
    lines = [
        {"experiment": r.id, "value": r.value, "params": {n: r.params.get(n) for n in names}}
        for r in scored
    ]
    return {"axes": axes, "lines": lines}


def scatter_plot(read):
    """For each param axis, its (param value, metric value) point of each sampled experiment."""
    scored, axes = read.scored
    params = []
    for axis in axes:
        name = axis["name"]
        points = [
            {
                "experiment": r.id,
                "x": r.params[name] if axis["kind"] == "numeric" else category(r.params[name]),
                "value": r.value,
            }
            for r in scored
            if name in r.params
        ]
        params.append({**axis, "points": points})
    return {"params": params}
