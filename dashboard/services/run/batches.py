"""Asynchronous searches (asha, tpe, cmaes) as the scheduler drives them: whenever the group
has free slots it asks for a batch (hptuning/trials.py), worked out in the search process like
an iteration, and creates what the answer says. The group ends once an answer starts nothing
and none of its experiments is unfinished.
"""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.models.statuses import RUNNING_EXPERIMENT_STATUSES
from dashboard.services.experiment import experiments as experiment_service


def unfinished(counts):
    """How many experiments of the group are pending or running."""
    return counts.get("created", 0) + sum(counts.get(s, 0) for s in RUNNING_EXPERIMENT_STATUSES)


def free_slots(group, counts):
    """How many experiments the group may start now, within its concurrency."""
    return group.concurrency - unfinished(counts)


def batch_key(group, counts):
    """A request's key: it holds until the group's experiments are created (so experiments
    finishing meanwhile never cancel a request being worked out)."""
    return group.id, group.created_at, "batch", sum(counts.values())


def batch_note(counts):
    """What an answer of "nothing to start" depended on: the group's status counts. The group
    is asked again once they change (an experiment finished, a user stopped one...)."""
    return tuple(sorted(counts.items()))


def batch_request(group, free):
    """What the group's next batch takes (hptuning.asynchronous.work_out_batch): its
    polyaxonfile and every experiment as a Trial."""
    trials = experiment_service.trials_of(group)
    return {
        "content": group.content,
        "free": free,
        "trials": [[t.id, t.params, t.status, t.metric, t.original] for t in trials],
        "extended_by": group.extended_by or 0,
    }


def start_batch(group, ok, free):
    """Create the answered batch's experiments, at most `free` of them; returns their count.

    An asha experiment's iteration is its rung (its original's plus one), a tpe or cmaes
    experiment's its suggestion number; current_iteration becomes the batch's (for tpe and
    cmaes the suggestions made, counting only those created when fewer slots were free than
    when it was asked)."""
    batch = ok["batch"]
    suggestions = batch["suggestions"][: max(free, 0)]
    origins = batch["origins"][: len(suggestions)]
    if not suggestions:
        return 0
    if group.search_algorithm == "asha":
        rungs = dict(
            db.session.execute(
                select(Experiment.id, Experiment.iteration).where(
                    Experiment.id.in_([o for o in origins if o is not None])
                )
            ).all()
        )
        iterations = [0 if o is None else (rungs.get(o) or 0) + 1 for o in origins]
    else:
        made = group.current_iteration or 0
        iterations = list(range(made, made + len(suggestions)))
    experiment_service.create_experiments(
        group,
        [{**ok["params"], **suggestion} for suggestion in suggestions],
        iterations=iterations,
        origins=origins,
    )
    if group.search_algorithm == "asha":
        group.current_iteration = batch["iteration"]
    else:
        group.current_iteration = iterations[-1] + 1
    return len(suggestions)
