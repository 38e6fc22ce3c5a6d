"""The analysis plots: every experiment's learning curve of a metric, the metric over two
params (contour), and the metric's empirical distribution (edf).

Each works out from the group's columns kept in this process (services.plots.group_columns,
brought up to date from what changed): numpy over every experiment with a value of the metric,
so a running group's poll costs a few reads of what changed, not a read of the whole group.
curves also reads the reports of the experiments it draws that changed since it last did.
Plain dicts, as the other plots.
"""

import math

import numpy as np
import orjson

from dashboard.errors import ValidationError
from dashboard.services.plots import analysis_reads
from dashboard.services.plots.plot_reads import GOLDEN, ONE
from dashboard.services.plots.plot_samples import axis_names
from dashboard.services.plots.plot_values import number

CURVE_POINTS = 200  # per experiment; longer histories keep first, last, min, max, evenly between
CURVES_DRAWN = 200
CURVES_BEST = 50  # drawn first, the rest of CURVES_DRAWN a seeded sample
EDF_POINTS = 1000
CONTOUR_BINS = 20
NAN = math.nan
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


def _valued(columns, metric):
    """(positions, ids, values) of the experiments with a value of metric."""
    values = columns.metric(metric)
    positions = np.flatnonzero(~np.isnan(values))
    return positions, columns.id_array()[positions], values[positions]


def curve_choice(group_id, ids, values, *, maximize):
    """Indexes into ids of the curves drawn, in drawing order: the CURVES_BEST best (ties by
    id), then the others in an order seeded by the group (the same on every read), up to
    CURVES_DRAWN in all."""
    order = np.lexsort((ids, -values if maximize else values))
    best, rest = order[:CURVES_BEST], order[CURVES_BEST:]
    shuffled = (ids[rest] * GOLDEN + group_id * 7919 % ONE) % ONE
    rest = rest[np.lexsort((ids[rest], shuffled))][: CURVES_DRAWN - len(best)]
    return np.concatenate([best, rest])


def _histories(columns, metric, ids):
    """{id: [[n, value]]} of the experiments' reports of metric, downsampled; kept in the
    columns until the experiment changes, so only changed ones are read again."""
    found = {i: columns.kept.get(i, {}).get(metric) for i in ids}
    missing = [i for i, points in found.items() if points is None]
    read = {i: [] for i in missing}
    for experiment_id, values in analysis_reads.reports(missing):
        value = number(orjson.loads(values).get(metric))
        if value is not None:
            history = read[experiment_id]
            history.append([len(history) + 1, value])
    for experiment_id, history in read.items():
        found[experiment_id] = columns.kept.setdefault(experiment_id, {})[metric] = downsample(
            history
        )
    return found


def curves_plot(group, columns, metric, maximize):
    """{"drawn", "total", "experiments": [{"id", "status", "best", "points": [[n, value]]}]}:
    n counts the experiment's reports that hold a number for metric (1, 2, ...)."""
    positions, ids, values = _valued(columns, metric)
    chosen = curve_choice(group.id, ids, values, maximize=maximize)
    drawn = [(int(ids[k]), int(positions[k])) for k in chosen]
    histories = _histories(columns, metric, [i for i, _ in drawn])
    return {
        "drawn": len(drawn),
        "total": len(ids),
        "experiments": [
            {
                "id": experiment_id,
                "status": columns.statuses[position],
                "best": rank == 0,
                "points": histories[experiment_id],
            }
            for rank, (experiment_id, position) in enumerate(drawn)
        ],
    }


RESORT_PAST = 64  # changed values past which the edf sorts them all again


def sorted_values(columns, metric):
    """The finite values of metric in increasing order, kept in the columns with the column
    they were sorted from: a poll takes out and puts in only the values that changed."""
    values = columns.metric(metric)
    kept = columns.derived.get(("sorted", metric))
    if kept is not None and len(kept[1]) <= len(values):
        ordered, before = kept
        old = np.full(len(values), NAN)
        old[: len(before)] = before
        same = (old == values) | (np.isnan(old) & np.isnan(values))
        changed = np.flatnonzero(~same)
        if len(changed) <= RESORT_PAST:
            for value in old[changed][~np.isnan(old[changed])].tolist():
                ordered = np.delete(ordered, np.searchsorted(ordered, value))
            new = np.sort(values[changed][~np.isnan(values[changed])])
            ordered = np.insert(ordered, np.searchsorted(ordered, new), new)
            columns.derived[("sorted", metric)] = (ordered, values)
            return ordered
    ordered = np.sort(values[~np.isnan(values)])
    columns.derived[("sorted", metric)] = (ordered, values)
    return ordered


def edf_plot(columns, metric):
    """{"total", "values", "fractions"}: the metric's values in increasing order (at most
    EDF_POINTS of them: past that the first, the last and the first of each of EDF_POINTS - 1
    equal stretches of the ranks between) and the fraction of experiments at or below each."""
    values = sorted_values(columns, metric)
    total = len(values)
    ranks = np.arange(1, total + 1)
    if total > EDF_POINTS:
        stretch = (ranks - 1) * (EDF_POINTS - 1) // (total - 1)
        kept = np.concatenate([[True], stretch[1:] != stretch[:-1]])
        kept[-1] = True
        values, ranks = values[kept], ranks[kept]
    return {
        "total": total,
        "values": values.tolist(),
        "fractions": (ranks / total).tolist() if total else [],
    }


def _log_params(group):
    matrix = (group.hptuning or {}).get("matrix") or {}
    return {
        name
        for name, spec in matrix.items()
        if isinstance(spec, dict) and set(spec) & set(LOG_OPTIONS)
    }


def param_axes(group, columns, positions):
    """The param axes the experiments at positions span, as the parallel plot's
    (plot_samples.param_axes): the matrix params first, then any other taking more than one
    value; numeric (min, max) when every value is a number, else categorical (sorted labels).
    Each axis also carries its column: numbers and label codes at positions."""
    axes, distinct = {}, {}
    for name in columns.params:
        numbers, codes, param = columns.param(name)
        numbers, codes = numbers[positions], codes[positions]
        present = codes >= 0
        if not present.any():
            continue
        used = np.flatnonzero(np.bincount(codes[present], minlength=len(param.values)))
        distinct[name] = len(used)
        if np.isnan(numbers[present]).any():
            labels = {code: param.label(code) for code in used.tolist()}
            categories = sorted(set(labels.values()))
            axis = {"name": name, "kind": "categorical", "categories": categories}
            index = {label: i for i, label in enumerate(categories)}
            to_bin = np.full(len(param.values) + 1, -1)  # code -1 takes the last: -1
            to_bin[used] = [index[labels[code]] for code in used.tolist()]
            axis["_bins"] = to_bin[codes]
        else:
            shown = numbers[present]
            axis = {"name": name, "kind": "numeric", "min": float(shown.min())}
            axis["max"] = float(shown.max())
            axis["_numbers"] = numbers
        axes[name] = axis
    return [axes[name] for name in axis_names(group, distinct)]


def _binned(axis, log):
    """The axis as the contour draws it, and each experiment's bin on it (-1: not on it)."""
    name = axis["name"]
    if axis["kind"] == "categorical":
        return {"name": name, "log": False, "values": axis["categories"]}, axis["_bins"]
    numbers = axis["_numbers"]
    present = ~np.isnan(numbers)
    distinct = np.unique(numbers[present])
    bins = np.full(len(numbers), -1)
    if len(distinct) <= CONTOUR_BINS:
        bins[present] = np.searchsorted(distinct, numbers[present])
        return {"name": name, "log": log, "values": distinct.tolist()}, bins
    low_value, high_value = float(distinct[0]), float(distinct[-1])
    log = log and low_value > 0
    scale = math.log10 if log else float
    low, high = scale(low_value), scale(high_value)
    width = (high - low) / CONTOUR_BINS
    edges = [low + width * k for k in range(CONTOUR_BINS + 1)]
    edges = [10**e for e in edges] if log else edges
    edges[0], edges[-1] = low_value, high_value
    scaled = np.log10(numbers[present]) if log else numbers[present]
    bins[present] = np.minimum(((scaled - low) / width).astype(np.int64), CONTOUR_BINS - 1)
    return {"name": name, "log": log, "edges": edges}, bins


def contour_pair(axes, ranking, x, y):
    """The two params drawn: those asked for (each must be one of the axes), else the two most
    important (ranking: param names, the most important first), else the first two."""
    names = [axis["name"] for axis in axes]
    for asked in (x, y):
        if asked is not None and asked not in names:
            raise ValidationError(
                f"'{asked}' is not a param of this group's experiments; the params are: "
                f"{', '.join(names) or 'none'}."
            )
    if x is not None and x == y:
        raise ValidationError("x and y must be two different params.")
    ranked = [name for name in ranking or () if name in names]
    default = ranked + [n for n in names if n not in ranked]
    x = x or next(n for n in default if n != y)
    y = y or next(n for n in default if n != x)
    return x, y


def _axes_of(group, columns, metric, positions):
    """(the param axes, {(name, log): binned axis}) of the experiments with a value of metric,
    kept in the columns while those stay the same: params never change, and an experiment
    keeps a value once it has one, so the same number of them (and sum of positions) is the
    same experiments. A running group's poll then only bins its values again."""
    key = ("contour axes", metric, len(positions), int(positions.sum()))
    kept = columns.derived.get(key)
    if kept is None:
        for old in [k for k in columns.derived if k[:2] == key[:2]]:
            del columns.derived[old]
        kept = columns.derived[key] = (param_axes(group, columns, positions), {})
    return kept


def _best_per_cell(cells, ids, values, count, maximize):
    """(the cells with an experiment, ascending; their best values, counts and best ids, ties
    to the lowest id), in time linear in the experiments."""
    counts = np.bincount(cells, minlength=count)
    best = np.full(count, -np.inf if maximize else np.inf)
    (np.maximum if maximize else np.minimum).at(best, cells, values)
    winners = values == best[cells]
    best_ids = np.full(count, np.iinfo(np.int64).max)
    np.minimum.at(best_ids, cells[winners], ids[winners])
    used = np.flatnonzero(counts)
    return used, best[used], counts[used], best_ids[used]


def contour_plot(group, columns, metric, ranking, *, x, y, maximize, strict=True):
    """{"x", "y", "cells": [[i, j, best value, count]], "cell_experiments": [best id per
    cell, ties to the lowest id], "choices": every param that can be drawn, "total"}.
    ranking(total): the params from most to least important (asked only for a default pair).
    A param asked for that the group lacks is a ValidationError when strict, else said."""
    positions, ids, values = _valued(columns, metric)
    axes, binned = _axes_of(group, columns, metric, positions)
    names = [axis["name"] for axis in axes]
    if len(names) < 2:
        return {
            "applicable": False,
            "message": "The contour needs experiments that vary in two params.",
            "choices": names,
        }
    try:
        x, y = contour_pair(axes, ranking(len(ids)) if x is None or y is None else None, x, y)
    except ValidationError as exc:
        if strict:
            raise
        return {"applicable": False, "message": str(exc), "choices": names}
    logs = _log_params(group)
    by_name = {axis["name"]: axis for axis in axes}
    for name in (x, y):
        if (name, name in logs) not in binned:
            binned[(name, name in logs)] = _binned(by_name[name], name in logs)
    x_axis, x_bins = binned[(x, x in logs)]
    y_axis, y_bins = binned[(y, y in logs)]
    on = (x_bins >= 0) & (y_bins >= 0)
    size = len(y_axis.get("values") or ()) or CONTOUR_BINS
    count = (len(x_axis.get("values") or ()) or CONTOUR_BINS) * size
    used, best, counts, best_ids = _best_per_cell(
        x_bins[on] * size + y_bins[on], ids[on], values[on], count, maximize
    )
    return {
        "x": x_axis,
        "y": y_axis,
        "cells": [
            [cell // size, cell % size, value, n]
            for cell, value, n in zip(used.tolist(), best.tolist(), counts.tolist(), strict=True)
        ],
        "cell_experiments": best_ids.tolist(),
        "choices": names,
        "total": len(positions),
        "sampled": False,
    }
