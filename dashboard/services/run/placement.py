"""Placing experiments that ask GPUs on a worker's declared ids (EXTENSIONS §2, "Resources").

A worker declares GPU ids (`--gpus`, WORKER_GPUS). The ids an experiment was given are stored
on it (`experiments.gpus`, `{"worker": ..., "ids": [...]}`) in the same conditional UPDATE that
claims it, and they are held while it is scheduled, starting or running: held ids are read
from the database, so a restarted worker or scheduler keeps the ids of experiments that still
run. The placing process takes a transaction-scoped advisory lock per worker it places on
(PostgreSQL; SQLite has one writer at a time and refuses a write from a stale read), so two
placers never hand out one id. An advisory lock, not the worker's row: a start report holds
that row while it moves its experiment's group counters, which a claim holds already.
"""

import hashlib

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dashboard.extensions import db
from dashboard.models import Experiment, Worker
from dashboard.models.statuses import RUNNING_EXPERIMENT_STATUSES
from dashboard.models.types import utcnow


def place(need, free):
    """(worker, ids) for an experiment asking `need` GPUs, given each worker's free ids, or
    None when none has that many free. Best fit: the worker with the fewest free ids that are
    enough (then by name), so larger ones stay whole for larger asks; its lowest ids."""
    fits = sorted((len(ids), worker) for worker, ids in free.items() if len(ids) >= need)
    if need <= 0 or not fits:
        return None
    worker = fits[0][1]
    return worker, sorted(free[worker])[:need]


def held_ids():
    """The ids each worker has given to experiments still scheduled, starting or running."""
    held = {}
    for gpus in db.session.scalars(
        select(Experiment.gpus).where(
            Experiment.status.in_(RUNNING_EXPERIMENT_STATUSES), Experiment.gpus.is_not(None)
        )
    ):
        held.setdefault(gpus["worker"], set()).update(gpus["ids"])
    return held


def _lock_key(worker):
    """The advisory lock of a worker's GPUs: a signed 64-bit number of its name."""
    digest = hashlib.sha256(f"dashboard-gpus:{worker}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class GpuPool:
    """The GPUs one placer hands out: `declared` maps a worker to its ids."""

    def __init__(self, declared):
        self.declared = {worker: sorted(set(ids)) for worker, ids in declared.items() if ids}
        self.free = {}

    @property
    def largest(self):
        """The most GPUs any of its workers declared."""
        return max((len(ids) for ids in self.declared.values()), default=0)

    def load(self):
        """Lock the workers' GPUs and read which ids are free (in the caller's transaction,
        which stores the placements and commits, releasing the locks)."""
        if db.session.get_bind().dialect.name == "postgresql":
            for worker in sorted(self.declared):  # one order: placers never wait in a cycle
                db.session.execute(select(func.pg_advisory_xact_lock(_lock_key(worker))))
        held = held_ids()
        self.free = {
            worker: [i for i in ids if i not in held.get(worker, ())]
            for worker, ids in self.declared.items()
        }

    def take(self, need):
        """Place one experiment asking `need` GPUs: {"worker", "ids"} (now held), or None."""
        spot = place(need, self.free)
        if spot is None:
            return None
        worker, ids = spot
        self.free[worker] = [i for i in self.free[worker] if i not in ids]
        return {"worker": worker, "ids": ids}

    def give_back(self, gpus):
        """Undo a take whose claim did not happen."""
        self.free[gpus["worker"]] = sorted([*self.free[gpus["worker"]], *gpus["ids"]])


def largest_worker_gpus():
    """The most GPUs a live worker declared (0 without workers or GPUs)."""
    declared = db.session.scalars(select(Worker.gpus).where(Worker.gpus.is_not(None))).all()
    return max((len(ids) for ids in declared), default=0)


def record_gpu_workers(beats):
    """Record the heartbeats of Celery workers that declare GPUs ({"name", "host", "gpus"}
    each): alive now, with those ids (pid 0: they live on other machines)."""
    now = utcnow()
    for beat in beats:
        worker = db.session.get(Worker, beat["name"])
        if worker is None:
            worker = Worker(name=beat["name"], host=beat["host"], pid=0, started_at=now)
            db.session.add(worker)
        worker.last_seen_at = now
        if worker.gpus != beat["gpus"]:
            worker.gpus = beat["gpus"]
    try:
        db.session.commit()
    except IntegrityError:  # its first start report registered it meanwhile: next round
        db.session.rollback()
