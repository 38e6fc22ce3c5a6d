"""What the curves and edf plots read, in SQL that stays bounded whatever the group's size.

curves: which experiments to draw (the best ones, then a sample seeded by the group, so that
polls draw the same lines) in one query over the group's values of the metric, then those
experiments' reports in one query through the experiment index.
edf: at most EDF_POINTS quantiles of the group's values of the metric, picked in SQL.
"""

from sqlalchemy import BigInteger, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.types import Text

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentMetric, ExperimentValue
from dashboard.services.plots.plot_reads import GOLDEN, LARGEST, ONE

CURVES_DRAWN = 200
CURVES_BEST = 50  # drawn first, the rest of CURVES_DRAWN a seeded sample
EDF_POINTS = 1000


def _values(group_id, metric):
    ev = ExperimentValue
    return and_(
        ev.group_id == group_id,
        ev.kind == "metric",
        ev.name == metric,
        ev.num_value.between(-LARGEST, LARGEST),
    )


def curve_experiments(group_id, metric, *, maximize):
    """Rows (id, status, rank, total) of the experiments whose curves are drawn: the
    CURVES_BEST best by their latest value of metric (rank from 1), then a sample of the others
    in an order seeded by the group; total: how many have a value."""
    ev = ExperimentValue
    order = ev.num_value.desc() if maximize else ev.num_value.asc()
    ranked = (
        select(
            ev.experiment_id,
            func.row_number().over(order_by=(order, ev.experiment_id)).label("rank"),
            func.count().over().label("total"),
        )
        .where(_values(group_id, metric))
        .subquery("ranked")
    )
    seed = literal(group_id * 7919 % ONE, BigInteger)
    shuffled = (ranked.c.experiment_id * literal(GOLDEN, BigInteger) + seed) % literal(
        ONE, BigInteger
    )
    status = select(Experiment.status).where(Experiment.id == ranked.c.experiment_id)
    stmt = (
        select(
            ranked.c.experiment_id.label("id"),
            status.scalar_subquery().label("status"),
            ranked.c.rank,
            ranked.c.total,
        )
        .order_by(
            case((ranked.c.rank <= CURVES_BEST, ranked.c.rank), else_=CURVES_BEST + 1),
            shuffled,
            ranked.c.experiment_id,
        )
        .limit(CURVES_DRAWN)
    )
    return db.session.execute(stmt).all()


def reports(experiment_ids):
    """(experiment id, the report's values as JSON text) of the experiments, in report order."""
    if not experiment_ids:
        return []
    em = ExperimentMetric
    return db.session.execute(
        select(em.experiment_id, type_coerce(em.values, Text))
        .where(em.experiment_id.in_(experiment_ids))
        .order_by(em.experiment_id, em.created_at, em.id)
    ).all()


def edf_quantiles(group_id, metric):
    """Rows (value, rank from 1, total) of the group's values of metric in increasing order:
    all of them up to EDF_POINTS, else the first, the last and the first of each of
    EDF_POINTS - 1 equal stretches of the ranks between (integer arithmetic, the same on
    SQLite and PostgreSQL)."""
    ev = ExperimentValue
    ranked = (
        select(
            ev.num_value.label("value"),
            func.row_number().over(order_by=(ev.num_value, ev.experiment_id)).label("rank"),
            func.count().over().label("total"),
        )
        .where(_values(group_id, metric))
        .subquery("ranked")
    )
    rank, total, steps = ranked.c.rank, ranked.c.total, EDF_POINTS - 1
    kept = or_(
        total <= EDF_POINTS,
        rank == 1,
        rank == total,
        (rank - 1) * steps // (total - 1) != (rank - 2) * steps // (total - 1),
    )
    return db.session.execute(select(ranked).where(kept).order_by(rank)).all()
