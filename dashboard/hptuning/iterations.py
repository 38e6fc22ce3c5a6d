"""Iteration-by-iteration search: the interface the scheduler drives for every algorithm.

`first_iteration(spec)` gives iteration 0; `next_iteration(spec, last, last_results, all_results)`
gives the one after `last`, or None once the search is complete. Grid and random make all their
suggestions in iteration 0; hyperband makes one iteration per rung of each bracket and bo one
iteration of initial random trials, then one per Gaussian-process suggestion.

Each iteration draws from numpy's default generator seeded with (spec seed, iteration number), so
a restarted scheduler reproduces the same suggestions (an unseeded spec is random every time).
"""

from .base import Iteration, with_params
from .extension import accepted_spec
from .search import suggestions


def first_iteration(spec):
    """Iteration 0 of the group's search."""
    if spec.search_algorithm in ("grid", "random"):
        return Iteration(0, {"kind": "all"}, [with_params(spec, s) for s in suggestions(spec)])
    return _algorithm(spec).first_iteration(spec)


def next_iteration(spec, last, last_results, all_results):
    """The iteration after `last` given (params, metric or None) results; None when complete."""
    if spec.search_algorithm in ("grid", "random"):
        return None
    return _algorithm(spec).next_iteration(spec, last, list(last_results), list(all_results))


def iteration_after(spec, last, results):
    """The iteration after `last` (None: the first) given every (params, metric, iteration
    number) result of the group; None once the search is complete."""
    if last is None:
        return first_iteration(spec)
    return next_iteration(
        spec,
        last,
        [(p, m) for p, m, n in results if n == last.number],
        [(p, m) for p, m, _ in results],
    )


def work_out(request):
    """The answer to a search request: the next iteration of a group, as JSON-ready data.

    `request` is {"content": polyaxonfile, "last": None or {"number", "data"}, "results":
    [[params, metric, iteration number], ...], "extended_by": n (optional)}; results need
    only their matrix params. The answer is {"ok": None} once the search is complete, else
    {"ok": {"number", "data", "params", "suggestions"}}: the group's params once, each
    suggestion without them (an experiment's params are {**params, **suggestion}), so 10,000
    suggestions never repeat a large params block. Raises what the search raises
    (SearchError, SpecError...).
    """
    if "trials" in request:  # an asynchronous search's batch (asynchronous.py)
        from .asynchronous import work_out_batch

        return work_out_batch(request)
    spec = accepted_spec(request["content"], request.get("extended_by", 0))
    last = request["last"]
    if last is not None:
        last = Iteration(last["number"], last["data"] or {})
    iteration = iteration_after(spec, last, request["results"])
    if iteration is None:
        return {"ok": None}
    suggestions = [
        {k: v for k, v in s.items() if k not in spec.params} for s in iteration.suggestions
    ]
    return {
        "ok": {
            "number": iteration.number,
            "data": iteration.data,
            "params": spec.params,
            "suggestions": suggestions,
        }
    }


def iteration_of(answer):
    """The Iteration of an {"ok": ...} answer of `work_out`; None once the search is complete."""
    ok = answer["ok"]
    if ok is None:
        return None
    params = ok["params"]
    return Iteration(ok["number"], ok["data"], [{**params, **s} for s in ok["suggestions"]])


def _algorithm(spec):
    # Imported when a search needs them: bo loads scipy and scikit-learn, slow to import.
    from . import bo, hyperband

    return {"hyperband": hyperband, "bo": bo}[spec.search_algorithm]
