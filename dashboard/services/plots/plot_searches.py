"""The plots of the searches: hyperband's brackets and rungs, asha's rungs; bo's, tpe's and
cmaes's suggestions in order. They count every experiment of the group, not a sample."""

import json

from dashboard.hptuning import asha
from dashboard.hptuning.spec import parse_group_spec
from dashboard.hptuning.trials import FINISHED

# The promoted configurations named per rung, at most (the counts are always whole).
SHOWN_PROMOTIONS = 50


def _best(values, optimization):
    return max(values) if optimization == "maximize" else min(values)


def hyperband_plot(group, results, iterations, optimization):
    """The brackets, one entry per rung: configs, experiments run and finished, promoted, best."""
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
        brackets.setdefault(bracket, []).append(
            {
                "iteration": number_,
                "rung": rung,
                "resource": data.get("resource"),
                "n_configs": data.get("n_configs", len(members)),
                "experiments": len(members),
                "finished": sum(1 for r in members if r.finished),
                "promoted": promoted,
                "best": _best(values, optimization) if values else None,
            }
        )
    return {
        "resource": ((group.hptuning or {}).get("hyperband") or {}).get("resource", {}).get("name"),
        "brackets": [{"bracket": b, "rungs": rungs} for b, rungs in brackets.items()],
    }


def bo_plot(results, iterations, optimization):
    """The suggestions in order, each with its kind (initial random or GP) and the best so far."""
    kinds = {number_: (data or {}).get("kind") for number_, data in iterations}
    return _suggestions(results, kinds.get, optimization)


def sampler_plot(group, results, optimization):
    """tpe and cmaes: the suggestions in order (an experiment's iteration is its suggestion
    number), tpe's initial random ones told apart, with the best so far."""
    block = (group.hptuning or {}).get(group.search_algorithm) or {}
    initial = block.get("n_initial_trials") or 0
    algorithm = group.search_algorithm
    return _suggestions(
        results, lambda number: "initial" if number < initial else algorithm, optimization
    )


def _suggestions(results, kind_of, optimization):
    ordered = sorted(
        (r for r in results if r.iteration is not None), key=lambda r: (r.iteration, r.id)
    )
    points, best = [], None
    for index, result in enumerate(ordered, start=1):
        if result.value is not None:
            best = result.value if best is None else _best((best, result.value), optimization)
        points.append(
            {
                "experiment": result.id,
                "suggestion": index,
                "iteration": result.iteration,
                "kind": kind_of(result.iteration),
                "value": result.value,
                "best": best,
            }
        )
    return {"points": points}


def asha_plot(group, trials, optimization):
    """asha's rungs, bottom first: each one's resource, the configurations it holds, how many
    run and finished, how many were promoted (and which, the first SHOWN_PROMOTIONS), and the
    best value reached there."""
    spec = parse_group_spec(group.content, max_experiments=None, check_template=False)
    table = asha.rung_table(spec, trials)
    rungs = []
    for number, rung in enumerate(table):
        members = rung["configurations"]
        values = [c["metric"] for c in members if c["metric"] is not None]
        promoted = [c for c in members if c["promoted"]]
        rungs.append(
            {
                "rung": number,
                "resource": rung["resource"],
                "configurations": len(members),
                "running": sum(1 for c in members if c["status"] not in FINISHED),
                "finished": sum(1 for c in members if c["status"] in FINISHED),
                "promoted": len(promoted),
                "promotions": [
                    {"experiment": c["id"], "to": c["promoted_to"]}
                    for c in promoted[:SHOWN_PROMOTIONS]
                ],
                "best": _best(values, optimization) if values else None,
            }
        )
    return {"resource": spec.algorithm_block["resource"]["name"], "rungs": rungs}
