"""Advancing groups: start created ones, work out the next iteration of hyperband and bo
groups once their last one has finished, ask asynchronous searches (asha, tpe, cmaes) for a
batch while they have free slots (batches.py), and finish groups that are done.

The searches are worked out in the scheduler's search process (runner/searches.py) given one,
else here and now. Every function commits its own transaction.
"""

import time

from flask import current_app
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.hptuning.asynchronous import ASYNCHRONOUS
from dashboard.hptuning.base import metric_value
from dashboard.hptuning.iterations import iteration_of, work_out
from dashboard.hptuning.trials import in_place_of_originals
from dashboard.models import Experiment, ExperimentGroup, GroupStatus, SearchIteration
from dashboard.models.statuses import RUNNING_EXPERIMENT_STATUSES
from dashboard.services.experiment import experiments as experiment_service
from dashboard.services.group.statuses import request_stop, set_group_status
from dashboard.services.group.tallies import experiment_counts_of
from dashboard.services.run import batches

ITERATIVE = ("hyperband", "bo")
SEARCH_BUDGET_SECONDS = 1.0  # per round, for search requests and iterations beyond the first


def _next_iteration(group):
    """The next iteration of a hyperband/bo group (None once the search is complete), worked
    out here and now.

    Pure computation over the group's experiments: it writes nothing, so a failing search
    leaves no half-created iteration behind.
    """
    return iteration_of(work_out(search_request(group)))


def search_request(group):
    """What working out the group's next iteration takes (see hptuning.iterations.work_out):
    its polyaxonfile, its last iteration, every experiment's matrix params and metric (a retry
    in its original's place) and how far it was extended."""
    last = db.session.scalars(
        select(SearchIteration)
        .where(SearchIteration.group_id == group.id)
        .order_by(SearchIteration.number.desc())
        .limit(1)
    ).first()
    hptuning = group.hptuning or {}
    names = list(hptuning.get("matrix") or {})
    metric = ((hptuning.get(group.search_algorithm) or {}).get("metric") or {}).get("name")
    rows = db.session.execute(
        select(
            Experiment.id,
            Experiment.original_experiment_id,
            Experiment.cloning_strategy,
            Experiment.params,
            Experiment.last_metric,
            Experiment.iteration,
        )
        .where(Experiment.group_id == group.id)
        .order_by(Experiment.id)
    ).all()
    results = [
        [
            {name: params[name] for name in names if name in params},
            metric_value((last_metric or {}).get(metric)),
            iteration,
        ]
        for _, _, params, last_metric, iteration in in_place_of_originals(rows)
    ]
    return {
        "content": group.content,
        "last": None if last is None else {"number": last.number, "data": last.data},
        "results": results,
        "extended_by": group.extended_by or 0,
    }


def _start_iteration(group, iteration):
    db.session.add(SearchIteration(group_id=group.id, number=iteration.number, data=iteration.data))
    experiment_service.create_experiments(group, iteration.suggestions, iteration=iteration.number)
    group.current_iteration = iteration.number + 1


def _finish(group, counts):
    total = sum(counts.values())
    if total and counts.get("failed", 0) == total:
        set_group_status(group, "failed", "Every experiment failed.")
    else:
        set_group_status(group, "succeeded", _complete_message(counts, total))


def _complete_message(counts, total):
    # Experiments stopped one by one are named only when there are some.
    parts = [f"{counts.get('succeeded', 0)} succeeded", f"{counts.get('failed', 0)} failed"]
    if counts.get("stopped"):
        parts.append(f"{counts['stopped']} stopped")
    noun = "experiment" if total == 1 else "experiments"
    return f"Search complete: {total} {noun} ({', '.join(parts)})."


def _stop_message(group):
    return db.session.scalars(
        select(GroupStatus.message)
        .where(GroupStatus.group_id == group.id)
        .order_by(GroupStatus.id.desc())
        .limit(1)
    ).first()


def advance_groups(searches=None):
    """Start created groups, create search iterations, and finish groups that are done.

    Each group is locked, re-read and committed on its own, so a user's concurrent stop is
    never overwritten with a stale status. The next iteration of a hyperband or bo group is
    worked out here and now, or, given `searches` (the scheduler's search process, see
    runner/searches.py), outside the round: see `_search`.
    """
    ids = db.session.scalars(
        select(ExperimentGroup.id)
        .where(ExperimentGroup.status.in_(("created", "running", "stopping")))
        .order_by(ExperimentGroup.id)
    ).all()
    counts = experiment_counts_of(ids)
    waiting = []
    for group_id in ids:
        group = _locked_group(group_id)
        if group is not None:
            wait = _advance(group, counts[group_id], inline=searches is None)
            if wait is not None:
                waiting.append((*wait, group.id, group.project_id))
        db.session.commit()
    if searches is not None:
        _search(searches, waiting)


def _locked_group(group_id):
    """The group, re-read and locked (PostgreSQL) until the commit; None if it was deleted."""
    return db.session.execute(
        select(ExperimentGroup)
        .where(ExperimentGroup.id == group_id)
        .with_for_update(key_share=True)  # as lookups.load_group locks a group
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _search_key(group):
    # The group's row may be deleted and its id reused (SQLite): its creation time tells.
    return group.id, group.created_at, group.current_iteration


def _search(searches, waiting):
    """Submit the requests of groups waiting for their next iteration, then start the iterations
    answered since: past SEARCH_BUDGET_SECONDS, only the first of each, the rest next round.
    Requests of groups no longer waiting (stopped, deleted) are dropped."""
    deadline = time.monotonic() + SEARCH_BUDGET_SECONDS
    searches.keep(key for key, *_ in waiting)
    submitted = 0
    for key, note, free, group_id, project_id in waiting:
        if key in searches or searches.resting(key, note):
            continue
        if submitted and time.monotonic() > deadline:
            continue
        group = db.session.get(ExperimentGroup, group_id)
        request = search_request(group) if free is None else batches.batch_request(group, free)
        searches.submit(key, project_id, request, note)
        submitted += 1
    db.session.commit()
    searches.poll()
    started = 0
    while searches.finished and (not started or time.monotonic() <= deadline):
        key = next(iter(searches.finished))
        _apply_answer(searches, key, searches.finished.pop(key))
        started += 1


def _apply_answer(searches, key, answer):
    """Start the iteration a search answered (or finish or fail the group), if the group still
    waits for it."""
    group_id = key[0]
    group = _locked_group(group_id)
    counts = experiment_counts_of([group_id])[group_id]
    if group is not None and group.search_algorithm in ASYNCHRONOUS:
        if group.status == "running" and batches.batch_key(group, counts) == key:
            _apply_batch(searches, key, group, counts, answer)
        db.session.commit()
        return
    unfinished = counts.get("created", 0) + sum(
        counts.get(s, 0) for s in RUNNING_EXPERIMENT_STATUSES
    )
    if group is None or _search_key(group) != key or group.status != "running" or unfinished:
        db.session.commit()
        return
    if "error" in answer:
        current_app.logger.warning(
            "search of group %s failed: %s", group_id, answer["error"]["message"]
        )
        set_group_status(
            group, "failed", f"The search could not continue: {answer['error']['message']}"
        )
    elif (iteration := iteration_of(answer)) is None:
        _finish(group, counts)
    else:
        try:
            _start_iteration(group, iteration)
            db.session.commit()
        except Exception:  # e.g. a value the database refuses: fail the group, not the round
            current_app.logger.exception("iteration %s of group %s", iteration.number, group_id)
            db.session.rollback()
            group = _locked_group(group_id)
            if group is not None:
                set_group_status(
                    group,
                    "failed",
                    f"The search could not continue: iteration "
                    f"{iteration.number} could not be created.",
                )
    db.session.commit()


def _apply_batch(searches, key, group, counts, answer):
    """Create the batch an asynchronous search answered; with nothing to start, finish the
    group if nothing of it is unfinished, else rest until its experiments change."""
    if "error" in answer:
        _search_failed(group, counts, answer["error"]["message"])
        return
    try:
        started = batches.start_batch(group, answer["ok"], batches.free_slots(group, counts))
    except Exception:  # e.g. a value the database refuses: fail the group, not the round
        current_app.logger.exception("a batch of group %s", group.id)
        db.session.rollback()
        group = _locked_group(group.id)
        if group is not None:
            _search_failed(group, counts, "its next experiments could not be created.")
        return
    if started:
        return
    if batches.unfinished(counts):
        searches.rest(key)
    else:
        _finish(group, counts)


def _search_failed(group, counts, message):
    """The group's search cannot go on: it fails, or, while experiments of it still run, they
    are stopped and it ends stopped, saying why."""
    current_app.logger.warning("search of group %s failed: %s", group.id, message)
    message = f"The search could not continue: {message}"
    if batches.unfinished(counts):
        request_stop(group, message=message)
    else:
        set_group_status(group, "failed", message)


def _advance(group, counts, *, inline=True):
    """Move the group on. Returns None, or, when it waits for a search and `inline` is False,
    (key, note, free): the request's key, what an idle answer depended on (None: nothing) and
    the slots an asynchronous search may fill (None: an iteration)."""
    running = sum(counts.get(s, 0) for s in RUNNING_EXPERIMENT_STATUSES)
    if group.status == "stopping":
        if not running:
            set_group_status(group, "stopped", _stop_message(group))
        return None
    if group.status == "created":
        set_group_status(group, "running")
    if group.status == "running" and group.search_algorithm in ASYNCHRONOUS:
        return _advance_batch(group, counts, inline=inline)
    if group.status != "running" or running or counts.get("created", 0):
        return None
    if group.search_algorithm in ITERATIVE and not inline:
        return _search_key(group), None, None
    iteration = None
    if group.search_algorithm in ITERATIVE:
        try:
            iteration = _next_iteration(group)
        except Exception as exc:  # the search itself could not continue: the group fails
            current_app.logger.exception("search of group %s failed", group.id)
            set_group_status(group, "failed", f"The search could not continue: {exc}")
            return None
    if iteration is not None:
        _start_iteration(group, iteration)
    else:
        _finish(group, counts)
    return None


def _advance_batch(group, counts, *, inline):
    """An asynchronous search's group: asks for a batch while it has free slots (here and now
    when `inline`, else through the search process: see `_advance`)."""
    free = batches.free_slots(group, counts)
    if free <= 0:
        return None
    if not inline:
        return batches.batch_key(group, counts), batches.batch_note(counts), free
    try:
        answer = work_out(batches.batch_request(group, free))
    except Exception as exc:  # the search itself could not continue
        current_app.logger.exception("search of group %s failed", group.id)
        _search_failed(group, counts, str(exc))
        return None
    if not batches.start_batch(group, answer["ok"], free) and not batches.unfinished(counts):
        _finish(group, counts)
    return None
