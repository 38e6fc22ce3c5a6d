"""A group's experiments as the analysis plots read them (status, params, latest metrics), kept
in this process per group and brought up to date from the experiments changed since.

The first read of a group, and one every REBUILD_AFTER seconds, reads all its experiments.
Later reads take only those whose updated_at is at or after the latest one seen less MARGIN,
one range of the index (group_id, updated_at): every write to an experiment sets updated_at
(the model's onupdate, the metric report's own statement). MARGIN covers a write that commits
after a later one of another transaction, and clocks of writing hosts apart by less. Deleted
experiments show as fewer in the group's counters than kept: the group is then read afresh.
So a running group's poll reads what changed (its running experiments, in practice), not
10,000 experiments, and the plots work out from numpy columns in memory.

Columns are kept for at most BUDGET experiments in all (the least recently used group goes
first); a group larger than that alone is read afresh on each request.
"""

import math
import threading
import time
from array import array
from collections import OrderedDict
from contextlib import contextmanager
from datetime import timedelta

import numpy as np
import orjson
from sqlalchemy import bindparam, func, select, type_coerce
from sqlalchemy.types import Text

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.services.group import tallies
from dashboard.services.plots.plot_values import category, number

MARGIN = timedelta(seconds=60)
REBUILD_AFTER = 3600.0
BUDGET = 100_000
NAN = math.nan

_FIELDS = (
    Experiment.id,
    Experiment.status,
    type_coerce(Experiment.params, Text),
    type_coerce(Experiment.last_metric, Text),
)
_ALL = select(*_FIELDS).where(Experiment.group_id == bindparam("group_id"))
_CHANGED = select(*_FIELDS, Experiment.updated_at).where(
    Experiment.group_id == bindparam("group_id"), Experiment.updated_at >= bindparam("since")
)
_LATEST = select(func.max(Experiment.updated_at)).where(
    Experiment.group_id == bindparam("group_id")
)


def _finite(value):
    found = number(value)
    return NAN if found is None else found


_NONE = type(None)


def _numbers(values):
    """array("d") of values (None or numbers): finite ones as floats, the rest NaN; in numpy
    when every value is an int or a float (bools are neither: number() refuses them)."""
    if set(map(type, values)) <= {int, float, _NONE}:
        try:
            found = np.array([NAN if v is None else v for v in values], dtype=np.float64)
        except OverflowError:  # an int past float's range: the slow way
            pass
        else:
            found[~np.isfinite(found)] = NAN
            return array("d", found.tobytes())
    return array("d", [_finite(v) for v in values])


def _key(value):
    """What tells two values of a param apart as category() does, cheaper: texts and numbers
    by type and value (1 and 1.0 are two labels), anything else by its JSON."""
    if isinstance(value, str | int | float):
        return type(value), value
    return None, category(value)


class Param:
    """One param over the group's experiments: its number (NaN when absent or not a number)
    and its value's code (-1 when absent) into `values` (label(code) is its category)."""

    def __init__(self, size):
        self.numbers = array("d", [NAN]) * size
        self.codes = array("l", [-1]) * size
        self.values = []
        self._code_of = {}

    def grow(self, size):
        self.numbers.extend(array("d", [NAN]) * (size - len(self.numbers)))
        self.codes.extend(array("l", [-1]) * (size - len(self.codes)))

    def code(self, value):
        key = _key(value)
        code = self._code_of.get(key)
        if code is None:
            code = self._code_of[key] = len(self.values)
            self.values.append(value)
        return code

    def label(self, code):
        return category(self.values[code])

    def set(self, position, value):
        if value is None:
            self.numbers[position], self.codes[position] = NAN, -1
            return
        self.numbers[position] = _finite(value)
        self.codes[position] = self.code(value)

    @classmethod
    def of(cls, values):
        """The param over experiments with these values (None: absent), in one pass; values of
        one type (ints, floats or texts) are their own keys."""
        param = cls(0)
        param.numbers = _numbers([v if isinstance(v, int | float) else None for v in values])
        kinds = set(map(type, values)) - {_NONE}
        if len(kinds) == 1 and kinds <= {int, float, str}:
            code_of = {}
            codes = [-1 if v is None else code_of.setdefault(v, len(code_of)) for v in values]
            param.codes = array("l", codes)
            param.values = list(code_of)
            param._code_of = {_key(v): code for v, code in code_of.items()}
        else:
            param.codes = array("l", [-1 if v is None else param.code(v) for v in values])
        return param


class Columns:
    """The experiments of one group, one position each: ids, statuses, each param (Param) and
    each metric's latest value (NaN when it has none that is a finite number)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        """Forget every experiment (the next refresh reads the group afresh)."""
        self.ids = array("q")
        self.where = {}  # id -> position
        self.statuses = []
        self.params = {}  # name -> Param
        self.metrics = {}  # name -> array("d")
        self.seen_until = None  # the latest updated_at read
        self.built = time.monotonic()
        self.version = None
        self.kept = {}  # what the plots keep per experiment until it changes (curves' histories)
        self.derived = {}  # what the plots keep of the columns as a whole (each says how long)
        self.changed = set()  # ids changed at the last refresh

    def __len__(self):
        return len(self.ids)

    def build(self, rows, latest):
        """Every experiment of the group from rows of (id, status, params JSON, last_metric
        JSON); latest: their latest updated_at, read before them."""
        self.reset()
        rows = list(rows)
        self.ids = array("q", [row[0] for row in rows])
        self.where = {experiment_id: k for k, experiment_id in enumerate(self.ids)}
        self.statuses = [row[1] for row in rows]
        params = [orjson.loads(row[2]) if row[2] else {} for row in rows]
        for name in set().union(*params):
            self.params[name] = Param.of([p.get(name) for p in params])
        latest_metrics = [orjson.loads(row[3]) if row[3] else {} for row in rows]
        for name in set().union(*latest_metrics):
            self.metrics[name] = _numbers([m.get(name) for m in latest_metrics])
        self.seen_until = latest

    def _position(self, experiment_id):
        position = self.where.get(experiment_id)
        if position is None:
            position = self.where[experiment_id] = len(self.ids)
            self.ids.append(experiment_id)
            self.statuses.append(None)
            for param in self.params.values():
                param.grow(position + 1)
            for values in self.metrics.values():
                values.append(NAN)
        return position

    def take(self, rows):
        """Fold in the changed rows of (id, status, params JSON, last_metric JSON, updated_at)."""
        for experiment_id, status, params, last_metric, updated_at in rows:
            position = self._position(experiment_id)
            self.statuses[position] = status
            self.kept.pop(experiment_id, None)
            self.changed.add(experiment_id)
            if self.seen_until is None or updated_at > self.seen_until:
                self.seen_until = updated_at
            params = orjson.loads(params) if params else {}
            for name in params.keys() | self.params.keys():
                if name not in self.params:
                    self.params[name] = Param(len(self.ids))
                self.params[name].set(position, params.get(name))
            latest = orjson.loads(last_metric) if last_metric else {}
            for name in latest.keys() | self.metrics.keys():
                values = self.metrics.get(name)
                if values is None:
                    values = self.metrics[name] = array("d", [NAN]) * len(self.ids)
                values[position] = _finite(latest.get(name))

    # What the plots read: numpy copies, so that the columns may grow meanwhile.

    def id_array(self):
        return np.array(self.ids, dtype=np.int64)

    def metric(self, name):
        values = self.metrics.get(name)
        return np.full(len(self.ids), NAN) if values is None else np.array(values)

    def param(self, name):
        """(numbers, codes, the Param) of the param."""
        param = self.params[name]
        return np.array(param.numbers), np.array(param.codes, dtype=np.int64), param


class _Kept:
    def __init__(self):
        self.groups = OrderedDict()  # group uuid -> Columns
        self.lock = threading.Lock()

    def columns(self, uuid):
        with self.lock:
            found = self.groups.get(uuid)
            if found is None:
                found = self.groups[uuid] = Columns()
            self.groups.move_to_end(uuid)
            return found

    def fit(self, uuid):
        """Forget the least recently used groups until the rest fit in BUDGET."""
        with self.lock:
            while sum(len(c) for c in self.groups.values()) > BUDGET and len(self.groups) > 1:
                oldest = next(iter(self.groups))
                if oldest == uuid:
                    self.groups.move_to_end(uuid)
                    oldest = next(iter(self.groups))
                del self.groups[oldest]
            if sum(len(c) for c in self.groups.values()) > BUDGET:
                self.groups.pop(uuid, None)

    def clear(self):
        with self.lock:
            self.groups.clear()


kept = _Kept()


def _refresh(columns, group, version):
    """Bring the columns up to date: the experiments changed since, or all of them when the
    columns are new, old, or keep an experiment the group no longer has."""
    columns.changed = set()
    fresh = columns.seen_until is None or time.monotonic() - columns.built > REBUILD_AFTER
    if not fresh:
        total = tallies.committed_total(group.id)
        since = columns.seen_until - MARGIN
        columns.take(db.session.execute(_CHANGED, {"group_id": group.id, "since": since}))
        fresh = len(columns) != total
    if fresh:
        latest = db.session.scalar(_LATEST, {"group_id": group.id})
        columns.build(db.session.execute(_ALL, {"group_id": group.id}), latest)
    columns.version = version


@contextmanager
def reading(group, version):
    """The group's Columns as of at least `version` (read before this), held for the block."""
    columns = kept.columns(group.uuid)
    with columns.lock:
        if columns.version != version:
            _refresh(columns, group, version)
        kept.fit(group.uuid)
        yield columns
