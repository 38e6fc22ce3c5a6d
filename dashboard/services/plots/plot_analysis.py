"""The analysis plots: every experiment's learning curve of a metric, the metric over two
params (contour), and the metric's empirical distribution (edf).

curves and edf read what they draw (services.plots.analysis_reads, bounded whatever the group's
size); contour bins the group's sample of experiments (the one the parallel and scatter plots
draw). Plain dicts, as the other plots.
"""

import math

import orjson

from dashboard.errors import ValidationError
from dashboard.services.plots import analysis_reads
from dashboard.services.plots.plot_values import category, number

CURVE_POINTS = 200  # per experiment; longer histories keep first, last, min, max, evenly between
CONTOUR_BINS = 20
LOG_OPTIONS = ("logspace", "geomspace", "loguniform", "qloguniform", "lognormal", "qlognormal")


def downsample(points, limit=CURVE_POINTS):
    """At most `limit` of [(n, value)] in order: the first, the last, the lowest and the
    highest always, and the rest evenly spread."""
    if len(points) <= limit:
        return points
    keep = {0, len(points) - 1}
    keep.add(min(range(len(points)), key=lambda i: points[i][1]))
    keep.add(max(range(len(points)), key=lambda i: points[i][1]))
    others = [i for i in range(len(points)) if i not in keep]
    room = limit - len(keep)
    step = len(others) / room
    keep.update(others[int(step * k)] for k in range(room))
    return [points[i] for i in sorted(keep)]


def curves_plot(group, metric, maximize):
    """{"drawn", "total", "experiments": [{"id", "status", "best", "points": [[n, value]]}]}:
    n counts the experiment's reports that hold a number for metric (1, 2, ...)."""
    chosen = analysis_reads.curve_experiments(group.id, metric, maximize=maximize)
    histories = {row.id: [] for row in chosen}
    for experiment_id, values in analysis_reads.reports(list(histories)):
        value = number(orjson.loads(values).get(metric))
        if value is not None:
            history = histories[experiment_id]
            history.append([len(history) + 1, value])
    return {
        "drawn": len(chosen),
        "total": chosen[0].total if chosen else 0,
        "experiments": [
            {
                "id": row.id,
                "status": row.status,
                "best": row.rank == 1,
                "points": downsample(histories[row.id]),
            }
            for row in chosen
        ],
    }


def edf_plot(group, metric):
    """{"total", "values", "fractions"}: the metric's values in increasing order (at most
    analysis_reads.EDF_POINTS of them, quantiles past that) and the fraction of experiments at
    or below each."""
    rows = analysis_reads.edf_quantiles(group.id, metric)
    return {
        "total": rows[0].total if rows else 0,
        "values": [row.value for row in rows],
        "fractions": [row.rank / row.total for row in rows],
    }


def _log_params(group):
    matrix = (group.hptuning or {}).get("matrix") or {}
    return {
        name
        for name, spec in matrix.items()
        if isinstance(spec, dict) and set(spec) & set(LOG_OPTIONS)
    }


def _binned(axis, results, log):
    """The axis as the contour draws it, and each result's bin index on it (None: not on it)."""
    name = axis["name"]
    present = [r.params[name] for r in results if name in r.params]
    if axis["kind"] == "categorical":
        values = axis["categories"]
        where = {label: i for i, label in enumerate(values)}
        return {"name": name, "log": False, "values": values}, lambda v: where.get(category(v))
    distinct = sorted({float(v) for v in present})
    if len(distinct) <= CONTOUR_BINS:
        where = {v: i for i, v in enumerate(distinct)}
        return {"name": name, "log": log, "values": distinct}, lambda v: where.get(number(v))
    log = log and distinct[0] > 0
    scale = math.log10 if log else float
    low, high = scale(distinct[0]), scale(distinct[-1])
    width = (high - low) / CONTOUR_BINS
    edges = [low + width * k for k in range(CONTOUR_BINS + 1)]
    edges = [10**e for e in edges] if log else edges
    edges[0], edges[-1] = distinct[0], distinct[-1]

    def bin_of(value):
        value = number(value)
        if value is None or (log and value <= 0):
            return None
        return min(int((scale(value) - low) / width), CONTOUR_BINS - 1)

    return {"name": name, "log": log, "edges": edges}, bin_of


def contour_pair(axes, importance, x, y):
    """The two params drawn: those asked for (each must be one of the axes), else the two most
    important, else the first two."""
    names = [axis["name"] for axis in axes]
    for asked in (x, y):
        if asked is not None and asked not in names:
            raise ValidationError(
                f"'{asked}' is not a param of this group's experiments; the params are: "
                f"{', '.join(names) or 'none'}."
            )
    if x is not None and x == y:
        raise ValidationError("x and y must be two different params.")
    ranked = [f["name"] for f in (importance or {}).get("features") or () if f["name"] in names]
    default = ranked + [n for n in names if n not in ranked]
    x = x or next(n for n in default if n != y)
    y = y or next(n for n in default if n != x)
    return x, y


def contour_plot(group, scored, importance, *, x, y, maximize):
    """{"x", "y", "cells": [[i, j, best value, count]], "cell_experiments": [best id per
    cell], "choices": every param that can be drawn}."""
    results, axes = scored
    names = [axis["name"] for axis in axes]
    if len(names) < 2:
        return {
            "applicable": False,
            "message": "The contour needs experiments that vary in two params.",
            "choices": names,
        }
    x, y = contour_pair(axes, importance, x, y)
    logs = _log_params(group)
    by_name = {axis["name"]: axis for axis in axes}
    x_axis, x_bin = _binned(by_name[x], results, x in logs)
    y_axis, y_bin = _binned(by_name[y], results, y in logs)
    cells = {}
    better = max if maximize else min
    for result in results:
        i, j = x_bin(result.params.get(x)), y_bin(result.params.get(y))
        if i is None or j is None:
            continue
        best, count, best_id = cells.get((i, j), (None, 0, None))
        if best is None or better(best, result.value) == result.value != best:
            best, best_id = result.value, result.id
        cells[(i, j)] = (best, count + 1, best_id)
    ordered = sorted(cells.items())
    return {
        "x": x_axis,
        "y": y_axis,
        "cells": [[i, j, best, count] for (i, j), (best, count, _) in ordered],
        "cell_experiments": [best_id for _, (_, _, best_id) in ordered],
        "choices": names,
    }
