"""Claiming pending experiments for a worker: fairly between projects, within concurrency."""

from collections import Counter

from sqlalchemy import delete, func, select, update

from dashboard.extensions import db
from dashboard.hptuning.resources import gpus_requested
from dashboard.models import Experiment, ExperimentGroup, ExperimentStatus
from dashboard.models.statuses import RUNNING_EXPERIMENT_STATUSES
from dashboard.models.types import utcnow


def claim_experiments(worker_name, limit):
    """The ids `claim_turns` claims, in turn order."""
    return [experiment_id for experiment_id, _ in claim_turns(worker_name, limit)]


def release(worker_name, experiment_ids):
    """Undo claims of `worker_name` not yet acted on: the experiments are pending again."""
    if not experiment_ids:
        return
    released = db.session.scalars(
        update(Experiment)
        .where(
            Experiment.id.in_(experiment_ids),
            Experiment.status == "scheduled",
            Experiment.worker == worker_name,
        )
        .values(status="created", worker=None, gpus=None, updated_at=utcnow())
        .returning(Experiment.id)
        .execution_options(synchronize_session=False)
    ).all()
    if released:
        db.session.execute(
            delete(ExperimentStatus).where(
                ExperimentStatus.experiment_id.in_(released), ExperimentStatus.status == "scheduled"
            )
        )
    db.session.commit()


def claim_turns(worker_name, limit, pool=None):
    """Claim up to `limit` pending experiments of running groups, shared fairly by projects;
    returns (experiment id, group id) pairs.

    Projects take turns, one experiment a turn, the project with the fewest experiments under
    way first (its oldest group with room first), each group within its concurrency; the claims
    come back in turn order, so one project's many experiments never queue ahead of another
    project's first. Each claim is a conditional UPDATE, so no two workers ever claim the same
    experiment, and the group row is locked (PostgreSQL) while its running experiments are
    counted. A group with fewer pending experiments than its turns leaves them to the others.
    An experiment asking GPUs is claimed only with free ids of `pool` (placement.GpuPool),
    stored with the claim; without them it stays pending, and its group's turns go to others.
    """
    groups = {
        row.id: row
        for row in db.session.execute(
            select(
                ExperimentGroup.id,
                ExperimentGroup.project_id,
                ExperimentGroup.concurrency,
                ExperimentGroup.resources,
            ).where(ExperimentGroup.status == "running")
        ).all()
    }
    under_way = (
        dict(
            db.session.execute(
                select(Experiment.group_id, func.count())
                .where(
                    Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
                    Experiment.group_id.in_(list(groups)),
                )
                .group_by(Experiment.group_id)
            ).all()
        )
        if groups
        else {}
    )
    claimed = {}  # group id -> the experiments claimed in it
    order = []  # whose turn each claimed experiment was
    done = set()  # groups with no more to claim this round
    while len(order) < limit:
        planned = _take_turns(groups, under_way, claimed, done, limit - len(order))
        if not planned:
            break
        left = {}
        for group_id, count in Counter(planned).items():
            need = gpus_requested(groups[group_id].resources)
            got = _claim_in_group(group_id, worker_name, count, need, pool)
            claimed.setdefault(group_id, []).extend(got)
            left[group_id] = len(got)
            if len(got) < count:  # no more pending (or another worker took them)
                done.add(group_id)
        for group_id in planned:
            if left[group_id]:
                left[group_id] -= 1
                order.append(group_id)
    ids = {group_id: iter(experiments) for group_id, experiments in claimed.items()}
    return [(next(ids[group_id]), group_id) for group_id in order]


def _take_turns(groups, under_way, claimed, done, slots):
    """Which group gets each of `slots` turns: its project least busy, then its oldest group."""
    taken = {g: under_way.get(g, 0) + len(claimed.get(g, [])) for g in groups}
    load = Counter()
    for group_id, busy in taken.items():
        load[groups[group_id].project_id] += busy
    planned = []
    for _ in range(slots):
        room = [g for g in groups if g not in done and taken[g] < groups[g].concurrency]
        if not room:
            break
        group_id = min(room, key=lambda g: (load[groups[g].project_id], g))
        planned.append(group_id)
        taken[group_id] += 1
        load[groups[group_id].project_id] += 1
    return planned


def _claim_in_group(group_id, worker_name, count, need=0, pool=None):
    """Claim up to `count` pending experiments of the group, within its concurrency, each
    asking `need` GPUs of `pool`."""
    group = db.session.execute(
        select(ExperimentGroup)
        .where(ExperimentGroup.id == group_id)
        .with_for_update(key_share=True)  # as lookups.load_group locks a group
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if group is None or group.status != "running":
        db.session.commit()
        return []
    running = db.session.scalar(
        select(func.count()).where(
            Experiment.group_id == group_id,
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES),
        )
    )
    slots = min(group.concurrency - running, count)
    if need and (pool is None or pool.largest < need):
        slots = 0  # waits for a worker with that many GPUs (the group page says so)
    elif need and slots > 0:
        pool.load()
    claimed = []
    candidates = db.session.scalars(
        select(Experiment.id)
        .where(Experiment.group_id == group_id, Experiment.status == "created")
        .order_by(Experiment.id)
        .limit(max(slots, 0))
    ).all()
    for experiment_id in candidates:
        gpus = pool.take(need) if need else None
        if need and gpus is None:
            break  # no worker has that many ids free: the rest wait too
        now = utcnow()
        result = db.session.execute(
            update(Experiment)
            .where(Experiment.id == experiment_id, Experiment.status == "created")
            .values(status="scheduled", worker=worker_name, gpus=gpus, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1 and gpus is not None:
            pool.give_back(gpus)
        if result.rowcount == 1:
            db.session.add(
                ExperimentStatus(experiment_id=experiment_id, status="scheduled", created_at=now)
            )
            claimed.append(experiment_id)
    db.session.commit()
    return claimed
