"""Asynchronous searches (asha, tpe, cmaes), asked for a batch whenever their group has free
slots (see trials.py): the request and answer the search process exchanges for them."""

from .extension import accepted_spec
from .trials import Trial

ASYNCHRONOUS = ("asha", "tpe", "cmaes")


def next_batch(spec, trials, free):
    """The Batch the group's algorithm starts now (at most `free` experiments)."""
    return _algorithm(spec).next_batch(spec, trials, free)


def work_out_batch(request):
    """The answer to a batch request: {"content": polyaxonfile, "free": n, "trials": [[id,
    params, status, metric, original], ...], "extended_by": n (optional)} (see trials.Trial;
    params need only the matrix's, and for asha the resource). The answer is {"ok": {"batch":
    {"suggestions", "origins", "iteration", "data"}, "params": the group's params}}; an
    experiment's params are {**params, **suggestion}. Raises what the search raises
    (SearchError, SpecError...)."""
    spec = accepted_spec(request["content"], request.get("extended_by", 0))
    trials = [Trial(*row) for row in request["trials"]]
    batch = next_batch(spec, trials, request["free"])
    return {
        "ok": {
            "batch": {
                "suggestions": batch.suggestions,
                "origins": batch.origins,
                "iteration": batch.iteration,
                "data": batch.data,
            },
            "params": spec.params,
        }
    }


def _algorithm(spec):
    # Imported when a search needs it: optuna (tpe, cmaes) is slow to import.
    if spec.search_algorithm == "asha":
        from . import asha

        return asha
    from . import samplers

    return samplers
