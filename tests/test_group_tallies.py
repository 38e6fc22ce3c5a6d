"""The per-group counters the database keeps (status counts, experiments version) always equal
a recount, whatever changes the experiments and however many transactions run at once."""

import random
import threading

from sqlalchemy import delete, func, select, update

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, GroupStatusCount
from dashboard.models.statuses import EXPERIMENT_STATUSES, IllegalTransition
from dashboard.models.types import utcnow
from dashboard.services.experiment import experiments as experiment_service
from dashboard.services.group import statuses, tallies
from tests.factories import grid_yml, make_group, make_project, make_user

THREADS = 6
STEPS = 40


def _recount(group_ids):
    rows = db.session.execute(
        select(Experiment.group_id, Experiment.status, func.count())
        .where(Experiment.group_id.in_(group_ids))
        .group_by(Experiment.group_id, Experiment.status)
    ).all()
    counts = {group_id: {} for group_id in group_ids}
    for group_id, status, count in rows:
        counts[group_id][status] = count
    return counts


def _kept(group_ids):
    counts = tallies.experiment_counts_of(group_ids)
    return {group_id: counts.get(group_id, {}) for group_id in group_ids}


def _locked_experiment(group_ids, rng):
    """One experiment of the groups, locked alone, as a runner's report locks it."""
    ids = db.session.scalars(select(Experiment.id).where(Experiment.group_id.in_(group_ids))).all()
    if not ids:
        return None
    return db.session.get(Experiment, rng.choice(ids), with_for_update=True)


def _locked_group(group_id):
    """The group row locked first, as stopping a group or the scheduler's claims do."""
    return db.session.get(ExperimentGroup, group_id, with_for_update=True)


def _allowed(current, new):
    try:
        return EXPERIMENT_STATUSES.check(current, new)
    except IllegalTransition:
        return False


def _one_change(group_ids, rng):
    """A random change of the kinds the app makes, in a transaction of its own."""
    kind = rng.choice(("one", "one", "one", "bulk", "claim", "insert", "delete"))
    group_id = rng.choice(group_ids)
    if kind == "one":
        experiment = _locked_experiment(group_ids, rng)
        to = rng.choice(EXPERIMENT_STATUSES.statuses)
        if experiment is not None and _allowed(experiment.status, to):
            statuses.set_experiment_status(experiment, to)
    elif kind == "bulk":  # stopping a group: its row, then its experiments in one UPDATE
        to = rng.choice(("stopped", "failed", "created"))
        from_statuses = [s for s in rng.sample(EXPERIMENT_STATUSES.statuses, 3) if _allowed(s, to)]
        _locked_group(group_id)
        statuses.set_experiment_statuses(group_id, from_statuses, to)
    elif kind == "claim":  # the scheduler: the group's row, then a conditional UPDATE each
        _locked_group(group_id)
        pending = db.session.scalars(
            select(Experiment.id)
            .where(Experiment.group_id == group_id, Experiment.status == "created")
            .order_by(Experiment.id)
            .limit(3)
        ).all()
        for experiment_id in pending:
            db.session.execute(
                update(Experiment)
                .where(Experiment.id == experiment_id, Experiment.status == "created")
                .values(status="scheduled", updated_at=utcnow())
            )
    elif kind == "insert":
        experiment_service.create_experiments(
            _locked_group(group_id), [{"x": rng.random()}] * rng.randint(1, 5)
        )
    else:
        experiment = _locked_experiment([group_id], rng)
        if experiment is not None:
            db.session.execute(delete(Experiment).where(Experiment.id == experiment.id))
    db.session.commit()


def _worker(app, group_ids, seed, errors):
    rng = random.Random(seed)
    with app.app_context():
        try:
            for _ in range(STEPS):
                _one_change(group_ids, rng)
        except Exception as exc:  # every failure is reported by the test, none is hidden
            db.session.rollback()
            errors.append(repr(exc))
        finally:
            db.session.remove()


def test_random_concurrent_changes_leave_the_counts_equal_to_a_recount(app):
    owner = make_user("owner")
    project = make_project(owner)
    group_ids = [make_group(project, content=grid_yml(30)).id for _ in range(3)]
    versions = {g: tallies.experiments_version(g) for g in group_ids}
    db.session.remove()

    errors = []
    threads = [
        threading.Thread(target=_worker, args=(app, group_ids, seed, errors))
        for seed in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    assert errors == []
    recount = _recount(group_ids)
    assert sum(sum(c.values()) for c in recount.values()) > 0
    assert _kept(group_ids) == recount
    assert all(tallies.experiments_version(g) > versions[g] for g in group_ids)


def test_a_grid_is_counted_as_it_is_created_and_as_it_is_stopped(app):
    owner = make_user("owner")
    group = make_group(make_project(owner), content=grid_yml(12))
    assert tallies.experiment_counts(group.id) == {"created": 12}

    statuses.request_stop(group)
    db.session.commit()

    assert tallies.experiment_counts(group.id) == {"stopped": 12}
    assert tallies.num_running(group.id) == 0


def test_a_metric_update_moves_the_version_but_not_the_counts(app):
    owner = make_user("owner")
    group = make_group(make_project(owner), content=grid_yml(2))
    before = tallies.experiments_version(group.id)
    db.session.execute(
        update(Experiment).where(Experiment.group_id == group.id).values(last_metric={"loss": 0.5})
    )
    db.session.commit()

    assert tallies.experiments_version(group.id) > before
    assert tallies.experiment_counts(group.id) == {"created": 2}


def test_a_deleted_group_leaves_no_counters(app):
    owner = make_user("owner")
    group = make_group(make_project(owner), content=grid_yml(3))
    db.session.execute(delete(ExperimentGroup).where(ExperimentGroup.id == group.id))
    db.session.commit()

    assert db.session.scalars(select(GroupStatusCount)).all() == []
    assert tallies.experiments_version(group.id) == 0
