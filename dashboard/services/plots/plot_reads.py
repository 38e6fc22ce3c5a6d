"""What a group's plots read: the version and metric names (one query), an evenly spread sample
of the experiments with a value of the plotted metric (one query, whatever the group's size),
and for the hyperband and bo plots every experiment and the search iterations.

The sample is taken in SQL, so that a 10,000-experiment group costs the database one read of two
index ranges and the sorts of their rows, and Python reads, decodes and plots at most
SAMPLE_SIZE rows.
"""

import sys

from sqlalchemy import BigInteger, and_, func, literal, null, or_, select, text, union_all

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentValue, SearchIteration

# Plots of more experiments than this send a sample of this many (the SVG draws as many).
SAMPLE_SIZE = 2000
LARGEST = sys.float_info.max
# The pick within each stretch: the fractional part of (stretch + 1) times the golden ratio,
# as a 32-bit fixed-point number; successive stretches pick positions spread evenly, so no
# cycle of a grid's params lines up with them.
GOLDEN, ONE = 2654435761, 2**32

# The group's metric names, one index seek each (a plain DISTINCT reads every value of the
# group; so does min(name) where PostgreSQL, without statistics, believes the range holds one
# row), beside the group's version. The recursion ends on a NULL name: there is always a row.
VERSION_AND_METRICS = text("""
WITH RECURSIVE names(name) AS (
    SELECT (SELECT name FROM experiment_values WHERE group_id = :group AND kind = 'metric'
            ORDER BY name LIMIT 1)
    UNION ALL
    SELECT (SELECT v.name FROM experiment_values v
            WHERE v.group_id = :group AND v.kind = 'metric' AND v.name > names.name
            ORDER BY v.name LIMIT 1)
    FROM names WHERE names.name IS NOT NULL
)
SELECT (SELECT version FROM group_versions WHERE group_id = :group) AS version, name FROM names
""")


def version_and_metrics(group_id):
    """(the group's experiments version, its metric names sorted): one query."""
    rows = db.session.execute(VERSION_AND_METRICS, {"group": group_id}).all()
    return rows[0].version or 0, [row.name for row in rows if row.name is not None]


def _kept(rank, total, size):
    """Whether the row of 0-based rank among total rows is in the sample of at most size rows:
    all of them when they are few; else one per stretch i of ranks [i * total / size,
    (i + 1) * total / size), at the position the golden ratio picks, and the last row always
    (it ends the last stretch). Integer arithmetic, the same on SQLite and PostgreSQL."""
    stretch = rank * size // total
    start = (stretch * total + size - 1) // size
    end = ((stretch + 1) * total + size - 1) // size
    golden, one = literal(GOLDEN, BigInteger), literal(ONE, BigInteger)
    pick = start + ((stretch + 1) * golden % one) * (end - start) // one
    return or_(total <= size, rank == total - 1, and_(stretch < size - 1, rank == pick))


def sample(group_id, metric, *, maximize, params, size=None):
    """The group's experiments with a finite number as their value of metric, in completion
    order (finished ones by finishing time, then the others, ties by id), or an even sample of
    them when there are more than size (SAMPLE_SIZE): rows of id, status, iteration, value,
    rank (0-based, among them all), total (how many there are), best (the best value up to and
    including this one, maximize telling which way), and params when asked for (else None)."""
    size = size or SAMPLE_SIZE
    # The group's experiments and its values of the metric, two ranges of two indexes, put
    # side by side by grouping on the experiment: no join for a planner to get wrong (without
    # statistics, PostgreSQL reads a range once per row of the other side).
    ev = ExperimentValue
    both = union_all(
        select(
            Experiment.id,
            Experiment.finished_at,
            Experiment.status,
            Experiment.iteration,
            null().label("value"),
        ).where(Experiment.group_id == group_id),
        select(ev.experiment_id, null(), null(), null(), ev.num_value).where(
            ev.group_id == group_id,
            ev.kind == "metric",
            ev.name == metric,
            ev.num_value.between(-LARGEST, LARGEST),
        ),
    ).subquery("both_sides")
    valued = (
        select(
            both.c.id,
            *[
                func.max(both.c[name]).label(name)
                for name in ("finished_at", "status", "iteration", "value")
            ],
        )
        .group_by(both.c.id)
        .subquery("valued")
    )
    completion = [valued.c.finished_at.is_(None), valued.c.finished_at, valued.c.id]
    running_best = (func.max if maximize else func.min)(valued.c.value).over(
        order_by=completion, rows=(None, 0)
    )
    ranked = (
        select(
            valued.c.id,
            valued.c.status,
            valued.c.iteration,
            valued.c.value,
            (func.row_number().over(order_by=completion) - 1).label("rank"),
            func.count().over().label("total"),
            running_best.label("best"),
        )
        .where(valued.c.value.is_not(None))
        .subquery("ranked")
    )
    # Only the sample's params are read, each through the primary key.
    decoded = (
        select(Experiment.params).where(Experiment.id == ranked.c.id).scalar_subquery()
        if params
        else null()
    )
    stmt = (
        select(ranked, decoded.label("params"))
        .where(_kept(ranked.c.rank, ranked.c.total, literal(size, BigInteger)))
        .order_by(ranked.c.rank)
    )
    return db.session.execute(stmt).all()


def every_experiment(group_id, params=True):
    """Every experiment of the group: id, status, params (None unless asked for), last_metric,
    iteration, finished_at (the hyperband and bo plots count every one)."""
    return db.session.execute(
        select(
            Experiment.id,
            Experiment.status,
            Experiment.params if params else null().label("params"),
            Experiment.last_metric,
            Experiment.iteration,
            Experiment.finished_at,
        ).where(Experiment.group_id == group_id)
    ).all()


def iterations(group_id):
    """The group's search iterations: (number, data) in order."""
    return db.session.execute(
        select(SearchIteration.number, SearchIteration.data)
        .where(SearchIteration.group_id == group_id)
        .order_by(SearchIteration.number)
    ).all()
