"""The data behind a group's plots, as plain dicts, in a constant number of queries.

Each request reads the group (one query), its version and metric names (one query) and, unless
this process kept the answer for that version (services.versioned), an even sample of at most
SAMPLE_SIZE of its experiments with a value of the metric (one query: plot_reads.sample). The
metric, parallel, scatter and importance plots are worked out from that sample: for groups of
at most SAMPLE_SIZE such experiments it is all of them, and larger ones say so ("total",
"sampled"). The hyperband and bo plots count every experiment, and read them all and the
search iterations (two more queries).
"""

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from dashboard.errors import NotFound
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.services import plot_reads, versioned
from dashboard.services.lookups import load_group
from dashboard.services.objective import direction_of, objective_of

PLOTS = ("metric", "parallel", "scatter", "hyperband", "bo", "importance")
MIN_IMPORTANCE_EXPERIMENTS = 5
# The forest is fitted on at most this many experiments (an even sample of larger groups),
# which keeps the fit to about two seconds on a 10,000-experiment group.
MAX_IMPORTANCE_ROWS = 1000
FOREST_TREES = 50
SHUFFLES = 5
IMPORTANCE_CACHE_SIZE = 32
_IMPORTANCE_CACHE = OrderedDict()  # (group id, metric, ((id, value), ...)) -> importance data


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


# Plots that never look at params: their read leaves them out (no JSON to decode).
WITHOUT_PARAMS = ("metric", "bo")


def _hashable(value):
    # Texts and numbers are their own keys; lists and dicts are keyed by their JSON.
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return (type(value), value)


def _param_names(group, results):
    """The matrix params first, then any other param that takes more than one value."""
    matrix = list((group.hptuning or {}).get("matrix") or {})
    values = {}
    for result in results:
        for name, value in result.params.items():
            values.setdefault(name, set()).add(_hashable(value))
    others = sorted(name for name in values if name not in matrix and len(values[name]) > 1)
    return [name for name in matrix if name in values] + others


def param_kind(results, name):
    """"numeric" when every value of the param is a number, else "categorical"."""
    present = [r.params[name] for r in results if name in r.params]
    return "numeric" if present and all(number(v) is not None for v in present) else "categorical"


def category(value):
    """A categorical value as the label plots show."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _best(values, optimization):
    return max(values) if optimization == "maximize" else min(values)


def plot_data(access, group_id, name, *, metric=None):
    """The data of one plot of the group (NotFound for an unknown plot name)."""
    if name not in PLOTS:
        raise NotFound(f"There is no plot '{name}'; the plots are: {', '.join(PLOTS)}.")
    group = load_group(access, group_id)
    return _plots(group, (name,), metric)[name]


def plot_names(access, group_id):
    """The plots of the group (checks that the group exists)."""
    load_group(access, group_id)
    return list(PLOTS)


def all_plots(access, group_id, *, metric=None):
    """(every plot that applies to the group, whether the group still runs), from one read of
    its experiments."""
    group = load_group(access, group_id)
    names = tuple(name for name in PLOTS if name not in ("hyperband", "bo")
                  or name == group.search_algorithm)
    return _plots(group, names, metric), not group.is_final


def _plots(group, names, metric):
    """{name: data} of the plots, kept per process for the group's version (and what else of
    the group they show: its objective, spec, status and iteration). The group is named by its
    uuid: SQLite may give a deleted group's id to the next one."""
    version, seen = plot_reads.version_and_metrics(group.id)
    key = ("plots", group.uuid, version, group.status, group.current_iteration,
           json.dumps([group.objective, group.hptuning], sort_keys=True), names, metric)
    return versioned.answers.get(key, lambda: _work_out(group, names, seen, metric),
                                 weight=_points)


def _work_out(group, names, seen, metric):
    read = _read(group, seen, metric, params=any(n not in WITHOUT_PARAMS for n in names))
    return {name: _compute(group, name, read) for name in names}


def _points(plots):
    """How many points the plots hold (what they weigh in memory)."""
    return sum(len(data.get("points") or ()) + len(data.get("lines") or ())
               + sum(len(param["points"]) for param in data.get("params") or ())
               for data in plots.values())


@dataclass
class _Read:
    """The experiments as every plot of one request sees them (each read at most once)."""

    group: object
    seen: list
    chosen: str | None
    optimization: str
    source: str  # where the optimization comes from: "user", "spec" or "assumed"
    note: str | None
    params: bool  # whether the sample carries its params

    @cached_property
    def sample(self):
        """(the experiments with a value of the metric, or a sample of them, in completion
        order; how many there are in all)."""
        rows = plot_reads.sample(self.group.id, self.chosen, params=self.params,
                                 maximize=self.optimization == "maximize")
        results = [Result(r.id, r.status, r.params or {}, r.value, r.iteration, r.rank + 1,
                          r.best) for r in rows]
        return results, rows[0].total if rows else 0

    @cached_property
    def sampled(self):
        """What a sampled plot says of its sample: how many it stands for, and whether it is
        a sample."""
        results, total = self.sample
        return {"total": total, "sampled": total > len(results)}

    @cached_property
    def scored(self):
        """The sample, and the param axes it spans."""
        results = self.sample[0]
        return results, _axes(self.group, results)

    @cached_property
    def everything(self):
        """Every experiment in completion order, with its value of the metric (or None)."""
        hyperband = self.group.search_algorithm == "hyperband"
        rows = plot_reads.every_experiment(self.group.id, params=hyperband)
        # Completion order: finished experiments by finishing time, then the others by id.
        ordered = sorted(rows, key=lambda r: (
            r.finished_at is None, r.finished_at.timestamp() if r.finished_at else 0, r.id))
        return [Result(r.id, r.status, r.params or {},
                       number((r.last_metric or {}).get(self.chosen)), r.iteration)
                for r in ordered]

    @cached_property
    def iterations(self):
        return plot_reads.iterations(self.group.id)


CHOOSE = "Choose one with “Objective” above the experiments table."


def _note(objective, chosen, known):
    """What people should know about the metric shown: that there is no objective, or that the
    metric shown is not the objective and has no known direction."""
    if objective is None:
        return f"No objective set{f': showing {chosen}' if chosen else ''}. {CHOOSE}"
    if known is None:
        return (f"Showing {chosen}, which is not the objective ({objective.metric}): "
                "which way is better is unknown.")
    return None


def _read(group, seen, metric, *, params):
    objective = objective_of(group)
    # The objective's metric by default; without one, the first metric reported, so the plots
    # still show something (and say that no objective is set).
    chosen = metric or (objective.metric if objective else next(iter(seen), None))
    known = direction_of(group, chosen) if chosen else None
    # Without a known direction the data keeps "maximize" (the key is never null) and says it
    # is assumed; the page then draws no best-so-far line.
    optimization, source = (known.optimization, known.source) if known else ("maximize", "assumed")
    return _Read(group, seen, chosen, optimization, source, _note(objective, chosen, known),
                 params)


def _compute(group, name, read):
    seen, chosen, optimization = read.seen, read.chosen, read.optimization
    base = {"plot": name, "metric": chosen, "optimization": optimization, "metrics": seen,
            "applicable": True, "message": None, "optimization_source": read.source,
            "note": read.note}
    if name in ("hyperband", "bo") and group.search_algorithm != name:
        return {**base, "applicable": False,
                "message": f"The {name} plot is for {name} groups; this one uses "
                           f"{group.search_algorithm}."}
    if chosen is None:
        return {**base, "applicable": False, "message": "No experiment has reported a metric yet."}
    if name == "hyperband":
        return {**base, **_hyperband_plot(group, read.everything, read.iterations, optimization)}
    if name == "bo":
        return {**base, **_bo_plot(read.everything, read.iterations, optimization)}
    if name == "importance":
        return {**base, **_importance_plot(group, read.sample[0], chosen)}
    return {**base, **{"metric": _metric_plot, "parallel": _parallel_plot,
                       "scatter": _scatter_plot}[name](read), **read.sampled}


def _metric_plot(read):
    return {"points": [{"experiment": r.id, "order": r.order, "value": r.value, "best": r.best}
                       for r in read.sample[0]]}


def _axes(group, results):
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


def _parallel_plot(read):
    scored, axes = read.scored
    names = [axis["name"] for axis in axes]
    lines = [{"experiment": r.id, "value": r.value,
              "params": {n: r.params.get(n) for n in names}} for r in scored]
    return {"axes": axes, "lines": lines}


def _scatter_plot(read):
    scored, axes = read.scored
    params = []
    for axis in axes:
        name = axis["name"]
        points = [{"experiment": r.id, "x": r.params[name] if axis["kind"] == "numeric"
                   else category(r.params[name]), "value": r.value}
                  for r in scored if name in r.params]
        params.append({**axis, "points": points})
    return {"params": params}


def _hyperband_plot(group, results, iterations, optimization):
    names = list((group.hptuning or {}).get("matrix") or {})
    by_iteration = {}
    for result in results:
        by_iteration.setdefault(result.iteration, []).append(result)
    brackets, previous = {}, {}
    for number_, data in iterations:
        data = data or {}
        members = by_iteration.get(number_, [])
        keys = {json.dumps([r.params.get(n) for n in names], sort_keys=True) for r in members}
        bracket, rung = data.get("bracket"), data.get("rung", 0)
        promoted = len(keys & previous.get(bracket, set())) if rung else 0
        previous[bracket] = keys
        values = [r.value for r in members if r.value is not None]
        brackets.setdefault(bracket, []).append({
            "iteration": number_, "rung": rung, "resource": data.get("resource"),
            "n_configs": data.get("n_configs", len(members)), "experiments": len(members),
            "finished": sum(1 for r in members if r.finished), "promoted": promoted,
            "best": _best(values, optimization) if values else None,
        })
    return {"resource": ((group.hptuning or {}).get("hyperband") or {}).get("resource", {})
            .get("name"),
            "brackets": [{"bracket": b, "rungs": rungs} for b, rungs in brackets.items()]}


def _bo_plot(results, iterations, optimization):
    kinds = {number_: (data or {}).get("kind") for number_, data in iterations}
    ordered = sorted((r for r in results if r.iteration is not None),
                     key=lambda r: (r.iteration, r.id))
    points, best = [], None
    for index, result in enumerate(ordered, start=1):
        if result.value is not None:
            best = result.value if best is None else _best((best, result.value), optimization)
        points.append({"experiment": result.id, "suggestion": index,
                       "iteration": result.iteration, "kind": kinds.get(result.iteration),
                       "value": result.value, "best": best})
    return {"points": points}


def _features(group, results):
    """The design matrix: numeric params as they are, categorical ones one-hot encoded."""
    columns, groups_ = [], []
    for axis in _axes(group, results):
        name = axis["name"]
        if axis["kind"] == "numeric":
            columns.append([float(r.params.get(name, axis["min"])) for r in results])
            groups_.append((name, [len(columns) - 1]))
        else:
            indices = []
            for value in axis["categories"]:
                columns.append([1.0 if name in r.params and category(r.params[name]) == value
                                else 0.0 for r in results])
                indices.append(len(columns) - 1)
            groups_.append((name, indices))
    return np.array(columns).T if columns else np.zeros((len(results), 0)), groups_


def _r2(model, features, target):
    residual = ((target - model.predict(features)) ** 2).sum()
    total = ((target - target.mean()) ** 2).sum()
    return 1.0 - residual / total if total else 0.0


def _importance_plot(group, results, metric):
    done = [r for r in results if r.finished and r.value is not None]
    if len(done) < MIN_IMPORTANCE_EXPERIMENTS:
        return {"applicable": False, "features": [], "method": None,
                "message": f"Param importance needs at least {MIN_IMPORTANCE_EXPERIMENTS} finished "
                           f"experiments with a value of {metric}; this group has {len(done)}."}
    if len(done) > MAX_IMPORTANCE_ROWS:
        step = len(done) / MAX_IMPORTANCE_ROWS
        done = [done[int(i * step)] for i in range(MAX_IMPORTANCE_ROWS)]
    # The fit is seeded, so the same experiments and values give the same answer: a running
    # group's plots, refreshed every few seconds, refit only when a new result has come in.
    key = (group.id, metric, tuple((r.id, r.value) for r in done))
    if key not in _IMPORTANCE_CACHE:
        _IMPORTANCE_CACHE[key] = _fit_importance(group, done, metric)
        while len(_IMPORTANCE_CACHE) > IMPORTANCE_CACHE_SIZE:
            _IMPORTANCE_CACHE.popitem(last=False)
    _IMPORTANCE_CACHE.move_to_end(key)
    return _IMPORTANCE_CACHE[key]


def _fit_importance(group, done, metric):
    from sklearn.ensemble import RandomForestRegressor  # slow to import: only when needed

    features, groups_ = _features(group, done)
    target = np.array([r.value for r in done])
    method = (f"Permutation importance: how much the R² of a random forest ({FOREST_TREES} trees) "
              f"fitted to the params (categorical ones one-hot encoded) → {metric} drops when a "
              f"param's values are shuffled, mean of {SHUFFLES} shuffles over {len(done)} "
              "finished experiments.")
    if not groups_:
        return {"features": [], "method": method, "message": "The group has no varying params."}
    model = RandomForestRegressor(n_estimators=FOREST_TREES, random_state=0, n_jobs=1)
    model.fit(features, target)
    baseline, rng = _r2(model, features, target), np.random.default_rng(0)
    importances = []
    for name, indices in groups_:
        drops = []
        for _ in range(SHUFFLES):
            shuffled = features.copy()
            shuffled[:, indices] = features[rng.permutation(len(done))][:, indices]
            drops.append(baseline - _r2(model, shuffled, target))
        importances.append({"name": name, "importance": float(np.mean(drops)),
                            "std": float(np.std(drops))})
    importances.sort(key=lambda item: -item["importance"])
    return {"features": importances, "method": method, "fit_r2": float(baseline)}
