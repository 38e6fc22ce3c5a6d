"""The data behind a group's plots, as plain dicts, in a constant number of queries.

Each request reads the group (one query), its version and metric names (one query) and, unless
this process kept the answer for that version (services.group.versioned), an even sample of at most
SAMPLE_SIZE of its experiments with a value of the metric (one query: plot_reads.sample). The
metric, parallel, scatter and importance plots are worked out from that sample: for groups of
at most SAMPLE_SIZE such experiments it is all of them, and larger ones say so ("total",
"sampled"). The hyperband and bo plots count every experiment, and read them all and the
search iterations (two more queries). The analysis plots (curves, contour, edf) work out from
the group's columns this process keeps up to date (services.plots.group_columns).
"""

import json
from dataclasses import dataclass
from functools import cached_property

from dashboard.errors import NotFound
from dashboard.services.experiment import experiments as experiment_service
from dashboard.services.group import versioned
from dashboard.services.group.objective import direction_of, objective_of
from dashboard.services.lookups import load_group
from dashboard.services.plots import group_columns, plot_analysis, plot_reads, plot_samples
from dashboard.services.plots.plot_importance import importance_plot
from dashboard.services.plots.plot_searches import asha_plot, bo_plot, hyperband_plot, sampler_plot
from dashboard.services.plots.plot_values import Result, number

PLOTS = (
    "metric",
    "curves",
    "parallel",
    "scatter",
    "contour",
    "edf",
    "hyperband",
    "asha",
    "bo",
    "tpe",
    "cmaes",
    "importance",
)
# Each draws one search algorithm's own view, for its groups only.
SEARCH_PLOTS = ("hyperband", "asha", "bo", "tpe", "cmaes")
# Plots that never look at params: their read leaves them out (no JSON to decode).
WITHOUT_PARAMS = ("metric", "curves", "edf", "asha", "bo", "tpe", "cmaes")


def plot_data(access, group_id, name, *, metric=None, x=None, y=None):
    """The data of one plot of the group (NotFound for an unknown plot name; x and y: the
    contour's params, ValidationError when the group has no such param)."""
    if name not in PLOTS:
        raise NotFound(f"There is no plot '{name}'; the plots are: {', '.join(PLOTS)}.")
    group = load_group(access, group_id)
    return _plots(group, (name,), metric, (x, y, True))[name]


def plot_names(access, group_id):
    """The plots of the group (checks that the group exists)."""
    load_group(access, group_id)
    return list(PLOTS)


def all_plots(access, group_id, *, metric=None, x=None, y=None):
    """(every plot that applies to the group, whether the group still runs), from one read of
    its experiments; a contour param the group lacks makes the contour say so."""
    group = load_group(access, group_id)
    names = tuple(
        name for name in PLOTS if name not in SEARCH_PLOTS or name == group.search_algorithm
    )
    return _plots(group, names, metric, (x, y, False)), not group.is_final


def _plots(group, names, metric, contour=(None, None, True)):
    """{name: data} of the plots, kept per process for the group's version (and what else of
    the group they show: its objective, spec, status and iteration). The group is named by its
    uuid: SQLite may give a deleted group's id to the next one."""
    version, seen = plot_reads.version_and_metrics(group.id)
    key = (
        "plots",
        group.uuid,
        version,
        group.status,
        group.current_iteration,
        json.dumps([group.objective, group.hptuning], sort_keys=True),
        names,
        metric,
        contour,
    )
    return versioned.answers.get(
        key, lambda: _work_out(group, version, names, seen, metric, contour), weight=_points
    )


def _work_out(group, version, names, seen, metric, contour):
    params = any(n not in WITHOUT_PARAMS for n in names)
    read = _read(group, version, seen, metric, params=params, contour=contour)
    return {name: _compute(group, name, read) for name in names}


def _points(plots):
    """How many points the plots hold (what they weigh in memory)."""
    return sum(
        len(data.get("points") or ())
        + len(data.get("lines") or ())
        + sum(len(curve["points"]) for curve in data.get("experiments") or ())
        + len(data.get("cells") or ())
        + len(data.get("values") or ())
        + sum(len(param["points"]) for param in data.get("params") or ())
        for data in plots.values()
    )


@dataclass
class _Read:
    """The experiments as every plot of one request sees them (each read at most once)."""

    group: object
    version: int  # the group's version, read before anything else
    seen: list
    chosen: str | None
    optimization: str
    source: str  # where the optimization comes from: "user", "spec" or "assumed"
    note: str | None
    params: bool  # whether the sample carries its params
    contour: tuple  # x, y, and whether a param the group lacks is an error (else said)

    @cached_property
    def sample(self):
        """(the experiments with a value of the metric, or a sample of them, in completion
        order; how many there are in all)."""
        rows = plot_reads.sample(
            self.group.id, self.chosen, params=self.params, maximize=self.optimization == "maximize"
        )
        results = [
            Result(r.id, r.status, r.params or {}, r.value, r.iteration, r.rank + 1, r.best)
            for r in rows
        ]
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
        return results, plot_samples.param_axes(self.group, results)

    @cached_property
    def everything(self):
        """Every experiment in completion order, with its value of the metric (or None)."""
        hyperband = self.group.search_algorithm == "hyperband"
        rows = plot_reads.every_experiment(self.group.id, params=hyperband)
        # Completion order: finished experiments by finishing time, then the others by id.
        ordered = sorted(
            rows,
            key=lambda r: (
                r.finished_at is None,
                r.finished_at.timestamp() if r.finished_at else 0,
                r.id,
            ),
        )
        return [
            Result(
                r.id,
                r.status,
                r.params or {},
                number((r.last_metric or {}).get(self.chosen)),
                r.iteration,
            )
            for r in ordered
        ]

    @cached_property
    def importance(self):
        return importance_plot(self.group, self.sample[0], self.chosen)

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
        return (
            f"Showing {chosen}, which is not the objective ({objective.metric}): "
            "which way is better is unknown."
        )
    return None


def _read(group, version, seen, metric, *, params, contour):
    objective = objective_of(group)
    # The objective's metric by default; without one, the first metric reported, so the plots
    # still show something (and say that no objective is set).
    chosen = metric or (objective.metric if objective else next(iter(seen), None))
    known = direction_of(group, chosen) if chosen else None
    # Without a known direction the data keeps "maximize" (the key is never null) and says it
    # is assumed; the page then draws no best-so-far line.
    optimization, source = (known.optimization, known.source) if known else ("maximize", "assumed")
    note = _note(objective, chosen, known)
    return _Read(group, version, seen, chosen, optimization, source, note, params, contour)


def _ranking(read, columns, total):
    """The params from most to least important for the contour's default pair: kept in the
    columns while the experiments with a value of the metric stay within a tenth of their
    number when it was worked out (the forest is fitted again only then)."""
    key = ("importance", read.chosen)
    kept = columns.derived.get(key)
    if kept is not None and abs(total - kept[1]) <= kept[1] / 10:
        return kept[0]
    ranked = [feature["name"] for feature in read.importance.get("features") or ()]
    columns.derived[key] = (ranked, total)
    return ranked


def _analysis(group, name, read):
    maximize = read.optimization == "maximize"
    with group_columns.reading(group, read.version) as columns:
        if name == "curves":
            return plot_analysis.curves_plot(group, columns, read.chosen, maximize)
        if name == "edf":
            return plot_analysis.edf_plot(columns, read.chosen)
        x, y, strict = read.contour
        return plot_analysis.contour_plot(
            group,
            columns,
            read.chosen,
            lambda total: _ranking(read, columns, total),
            x=x,
            y=y,
            maximize=maximize,
            strict=strict,
        )


def _compute(group, name, read):
    seen, chosen, optimization = read.seen, read.chosen, read.optimization
    base = {
        "plot": name,
        "metric": chosen,
        "optimization": optimization,
        "metrics": seen,
        "applicable": True,
        "message": None,
        "optimization_source": read.source,
        "note": read.note,
    }
    if name in SEARCH_PLOTS and group.search_algorithm != name:
        return {
            **base,
            "applicable": False,
            "message": f"The {name} plot is for {name} groups; this one uses "
            f"{group.search_algorithm}.",
        }
    if chosen is None:
        return {**base, "applicable": False, "message": "No experiment has reported a metric yet."}
    if name == "hyperband":
        return {**base, **hyperband_plot(group, read.everything, read.iterations, optimization)}
    if name == "bo":
        return {**base, **bo_plot(read.everything, read.iterations, optimization)}
    if name == "asha":
        trials = experiment_service.trials_of(group)
        return {**base, **asha_plot(group, trials, optimization)}
    if name in ("tpe", "cmaes"):
        return {**base, **sampler_plot(group, read.everything, optimization)}
    if name == "importance":
        return {**base, **read.importance}
    if name in ("curves", "edf", "contour"):
        return {**base, **_analysis(group, name, read)}
    return {
        **base,
        **{
            "metric": plot_samples.metric_plot,
            "parallel": plot_samples.parallel_plot,
            "scatter": plot_samples.scatter_plot,
        }[name](read),
        **read.sampled,
    }
