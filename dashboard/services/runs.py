"""What the runner does to the database: advance groups, claim experiments, record outcomes.

Every function commits its own transaction, so several workers can share one database.
"""

import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from dashboard.extensions import db
from dashboard.hptuning.iterations import iteration_of, work_out
from dashboard.models import (
    Experiment,
    ExperimentGroup,
    GroupStatus,
    SearchIteration,
    Worker,
)
from dashboard.models.statuses import RUNNING_EXPERIMENT_STATUSES
from dashboard.models.types import utcnow
from dashboard.services import experiments as experiment_service
from dashboard.services.claims import claim_experiments as claim_experiments
from dashboard.services.statuses import (
    record_experiment_statuses,
    set_experiment_status,
    set_group_status,
)
from dashboard.services.tallies import experiment_counts_of

ITERATIVE = ("hyperband", "bo")
SEARCH_BUDGET_SECONDS = 1.0  # per round, for search requests and iterations beyond the first
LOST_PROCESS = "The runner lost the process."


def heartbeat(name, host, pid):
    """Record that the worker is alive."""
    worker = db.session.get(Worker, name)
    now = utcnow()
    if worker is None:
        db.session.add(Worker(name=name, host=host, pid=pid, started_at=now, last_seen_at=now))
    else:
        worker.last_seen_at = now
    db.session.commit()


def forget_worker(name):
    """Remove a worker that shuts down cleanly."""
    worker = db.session.get(Worker, name)
    if worker is not None:
        db.session.delete(worker)
        db.session.commit()


def lost_experiments(*, timeout, host, alive, message=LOST_PROCESS):
    """Experiments of workers that vanished: silent past `timeout`, or dead on this host.

    `alive(pid)` tells whether a process of this host still exists (Celery workers, which report
    over HTTP, have pid 0 and are judged by their heartbeats alone). Marks each lost experiment
    failed with `message` ({worker} names its worker) and returns its (id, pid, worker host);
    the caller kills leftover process groups on its host.
    """
    workers = db.session.scalars(select(Worker)).all()
    hosts = {w.name: w.host for w in workers}
    for w in workers:
        if w.pid and w.host == host and not alive(w.pid):
            db.session.execute(delete(Worker).where(Worker.name == w.name))
    # Conditional, so a heartbeat that lands meanwhile keeps its worker.
    db.session.execute(delete(Worker).where(
        Worker.last_seen_at < utcnow() - timedelta(seconds=timeout)))
    # One statement: a worker that registers meanwhile commits its row with its experiment.
    claimed = db.session.scalars(
        select(Experiment).where(
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
            Experiment.worker.is_not(None),
            Experiment.worker.not_in(select(Worker.name)),
        )
    ).all()
    lost = []
    for experiment in claimed:
        if set_experiment_status(experiment, "failed", message.format(worker=experiment.worker)):
            lost.append((experiment.id, experiment.pid, hosts.get(experiment.worker)))
    db.session.commit()
    return lost


def unpicked_experiments(worker_name, *, timeout, message):
    """Fail the experiments sent to workers that none took within `timeout` s; returns their ids.

    The send time is the experiment's last update while it is `starting` under the scheduler's
    own claim (`worker_name`): it goes `starting` and gets its key just before its task is sent,
    and a worker's start report moves it to `running` and to that worker. One conditional UPDATE
    on the (status, worker) index, so a start report landing at the same moment either comes
    first (the row no longer matches) or is refused (the experiment is final), never both.
    """
    now = utcnow()
    ids = db.session.scalars(
        update(Experiment)
        .where(Experiment.status == "starting", Experiment.worker == worker_name,
               Experiment.updated_at < now - timedelta(seconds=timeout))
        .values(status="failed", updated_at=now, finished_at=now)
        .returning(Experiment.id)
        .execution_options(synchronize_session=False)
    ).all()
    if ids:
        record_experiment_statuses(ids, "failed", message, now)
    db.session.commit()
    return ids


def _metric_value(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _next_iteration(group):
    """The next iteration of a hyperband/bo group (None once the search is complete), worked
    out here and now.

    Pure computation over the group's experiments: it writes nothing, so a failing search
    leaves no half-created iteration behind.
    """
    return iteration_of(work_out(search_request(group)))


def search_request(group):
    """What working out the group's next iteration takes (see hptuning.iterations.work_out):
    its polyaxonfile, its last iteration and every experiment's matrix params and metric."""
    last = db.session.scalars(
        select(SearchIteration).where(SearchIteration.group_id == group.id)
        .order_by(SearchIteration.number.desc()).limit(1)
    ).first()
    hptuning = group.hptuning or {}
    names = list(hptuning.get("matrix") or {})
    metric = ((hptuning.get(group.search_algorithm) or {}).get("metric") or {}).get("name")
    rows = db.session.execute(
        select(Experiment.params, Experiment.last_metric, Experiment.iteration)
        .where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    results = [[{name: params[name] for name in names if name in params},
                _metric_value((last_metric or {}).get(metric)), iteration]
               for params, last_metric, iteration in rows]
    return {"content": group.content,
            "last": None if last is None else {"number": last.number, "data": last.data},
            "results": results}


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
        select(GroupStatus.message).where(GroupStatus.group_id == group.id)
        .order_by(GroupStatus.id.desc()).limit(1)
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
        if group is not None and _advance(group, counts[group_id], inline=searches is None):
            waiting.append((_search_key(group), group.id, group.project_id))
        db.session.commit()
    if searches is not None:
        _search(searches, waiting)


def _locked_group(group_id):
    """The group, re-read and locked (PostgreSQL) until the commit; None if it was deleted."""
    return db.session.execute(
        select(ExperimentGroup).where(ExperimentGroup.id == group_id).with_for_update()
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
    searches.keep(key for key, _, _ in waiting)
    submitted = 0
    for key, group_id, project_id in waiting:
        if key in searches or (submitted and time.monotonic() > deadline):
            continue
        group = db.session.get(ExperimentGroup, group_id)
        searches.submit(key, project_id, search_request(group))
        submitted += 1
    db.session.commit()
    searches.poll()
    started = 0
    while searches.finished and (not started or time.monotonic() <= deadline):
        key = next(iter(searches.finished))
        _apply_answer(key, searches.finished.pop(key))
        started += 1


def _apply_answer(key, answer):
    """Start the iteration a search answered (or finish or fail the group), if the group still
    waits for it."""
    group_id, created_at, number = key
    group = _locked_group(group_id)
    counts = experiment_counts_of([group_id])[group_id]
    unfinished = counts.get("created", 0) + sum(counts.get(s, 0)
                                                for s in RUNNING_EXPERIMENT_STATUSES)
    if group is None or _search_key(group) != key or group.status != "running" or unfinished:
        db.session.commit()
        return
    if "error" in answer:
        current_app.logger.warning("search of group %s failed: %s", group_id,
                                   answer["error"]["message"])
        set_group_status(group, "failed",
                         f"The search could not continue: {answer['error']['message']}")
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
                set_group_status(group, "failed", f"The search could not continue: iteration "
                                                  f"{iteration.number} could not be created.")
    db.session.commit()


def _advance(group, counts, *, inline=True):
    """Move the group on; True when it waits for its next iteration and `inline` is False."""
    running = sum(counts.get(s, 0) for s in RUNNING_EXPERIMENT_STATUSES)
    if group.status == "stopping":
        if not running:
            set_group_status(group, "stopped", _stop_message(group))
        return False
    if group.status == "created":
        set_group_status(group, "running")
    if group.status != "running" or running or counts.get("created", 0):
        return False
    if group.search_algorithm in ITERATIVE and not inline:
        return True
    iteration = None
    if group.search_algorithm in ITERATIVE:
        try:
            iteration = _next_iteration(group)
        except Exception as exc:  # the search itself could not continue: the group fails
            current_app.logger.exception("search of group %s failed", group.id)
            set_group_status(group, "failed", f"The search could not continue: {exc}")
            return False
    if iteration is not None:
        _start_iteration(group, iteration)
    else:
        _finish(group, counts)
    return False


def mark(experiment_id, status, message=None, *, pid=None):
    """Move a claimed experiment on (starting, running, succeeded, failed, stopped)."""
    experiment = db.session.get(Experiment, experiment_id)
    if experiment is None:
        return None
    db.session.refresh(experiment)
    if pid is not None:
        experiment.pid = pid
    changed = set_experiment_status(experiment, status, message)
    db.session.commit()
    return experiment if changed else None


def stop_requests(worker_name):
    """Experiments of this worker that someone asked to stop, or that are no longer wanted."""
    return db.session.execute(
        select(Experiment.id, Experiment.pid).where(
            Experiment.worker == worker_name,
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
            Experiment.stop_requested_at.is_not(None),
        )
    ).all()


def gone(experiment_ids):
    """Which of these experiments were deleted (their group was deleted)."""
    if not experiment_ids:
        return set()
    present = set(db.session.scalars(
        select(Experiment.id).where(Experiment.id.in_(experiment_ids))
    ).all())
    return set(experiment_ids) - present


def existing_groups(group_ids, chunk=500):
    """Which of these groups still exist (the others were deleted)."""
    group_ids = sorted(group_ids)
    found = set()
    for start in range(0, len(group_ids), chunk):
        found.update(db.session.scalars(select(ExperimentGroup.id).where(
            ExperimentGroup.id.in_(group_ids[start:start + chunk]))).all())
    return found


def launch_details(experiment_id):
    """The experiment with its group and project (owner loaded), or None if it was deleted."""
    from dashboard.models import Project

    row = db.session.execute(
        select(Experiment, ExperimentGroup, Project)
        .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
        .join(Project, Project.id == ExperimentGroup.project_id)
        .where(Experiment.id == experiment_id)
    ).first()
    return tuple(row) if row else None


def pending_stops():
    """Every unfinished experiment someone asked to stop: (id, uuid, worker)."""
    return db.session.execute(
        select(Experiment.id, Experiment.uuid, Experiment.worker).where(
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
            Experiment.stop_requested_at.is_not(None),
        )
    ).all()


def claimed_unsent(worker_name):
    """The experiments `worker_name` claimed (`scheduled`) and never moved on, by id."""
    return db.session.scalars(
        select(Experiment.id).where(Experiment.status == "scheduled",
                                    Experiment.worker == worker_name).order_by(Experiment.id)
    ).all()


def in_flight():
    """How many experiments are claimed and unfinished, on every worker together."""
    return db.session.scalar(
        select(func.count()).where(Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES))
    )


def experiments_isolated():
    """Whether experiments run in the sandbox (SANDBOX is not "off")."""
    from dashboard.runner.sandbox import Sandbox  # the runner's rule, read where it is kept

    return Sandbox.from_config(current_app.config).enabled
