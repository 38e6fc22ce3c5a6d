"""Ten groups of 1,000 finished experiments (five params, three metrics), inserted in bulk, and
the planner statistics refreshed as autovacuum does: the data the index tests explain plans over."""

from sqlalchemy import func, select, text, update

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentStatus, ExperimentValue
from dashboard.models.types import new_uuid, utcnow
from tests.factories import make_group, make_project, make_token, make_user

GROUPS, PER_GROUP = 10, 1000
BIG_TABLES = ("experiments", "experiment_values", "experiment_statuses")
# The group's own spec (its matrix and objective, as the page shows them) with a few
# experiments made by the service; the rest are inserted in bulk.
GRID = (
    "version: 1\nkind: group\nhptuning:\n  concurrency: 4\n"
    "  early_stopping:\n    - {metric: loss, value: 0.01, optimization: minimize}\n"
    "  matrix:\n    lr: {linspace: 0.001:1:5}\n    dropout: {values: [0.1, 0.2]}\n"
    "    layers: {values: [1]}\n    activation: {values: [relu]}\n    batch: {values: [16]}\n"
    "run:\n  cmd: echo {{ lr }}\n"
)
GRID_SIZE = 10


def bulk_insert(model, rows):
    """Core executemany (the ORM's bulk insert splits batches wherever a value turns None)."""
    db.session.execute(model.__table__.insert(), rows)


def add_experiments(group, count):
    """Insert count experiments of five params into the group, in bulk (the service's own
    inserts are measured elsewhere; this only builds the table)."""
    now = utcnow()
    rows = [
        {
            "uuid": new_uuid(),
            "group_id": group.id,
            "user_id": group.user_id,
            "status": "created",
            "created_at": now,
            "updated_at": now,
            "params": {
                "lr": n / 1000,
                "dropout": (n % 5) / 10,
                "layers": n % 4,
                "activation": ("relu", "tanh")[n % 2],
                "batch": 16 << (n % 5),
            },
        }
        for n in range(count)
    ]
    last = db.session.scalar(select(func.max(Experiment.id)))
    bulk_insert(Experiment, rows)
    added = db.session.execute(
        select(Experiment.id, Experiment.params).where(Experiment.id > last)
    ).all()
    values = [
        {
            "experiment_id": experiment_id,
            "group_id": group.id,
            "kind": "param",
            "name": name,
            "num_value": value if not isinstance(value, str) else None,
            "text_value": str(value),
        }
        for experiment_id, params in added
        for name, value in params.items()
    ]
    bulk_insert(ExperimentValue, values)


def finish_all(group_ids):
    """Every experiment succeeded with three metrics and a status history of two rows."""
    rows = db.session.execute(
        select(Experiment.id, Experiment.group_id)
        .where(Experiment.group_id.in_(group_ids))
        .order_by(Experiment.id)
    ).all()
    now = utcnow()
    values, statuses = [], []
    for n, (experiment_id, group_id) in enumerate(rows):
        metrics = {"loss": (n % 97) / 100, "accuracy": (n % 89) / 100, "f1": (n % 83) / 100}
        values += [
            {
                "experiment_id": experiment_id,
                "group_id": group_id,
                "kind": "metric",
                "name": name,
                "num_value": value,
                "text_value": str(value),
            }
            for name, value in metrics.items()
        ]
        statuses += [
            {
                "experiment_id": experiment_id,
                "uuid": new_uuid(),
                "status": status,
                "message": None,
                "created_at": now,
            }
            for status in ("created", "succeeded")
        ]
    bulk_insert(ExperimentValue, values)
    bulk_insert(ExperimentStatus, statuses)
    db.session.execute(
        update(Experiment)
        .where(Experiment.group_id.in_(group_ids))
        .values(
            status="succeeded",
            started_at=now,
            finished_at=now,
            last_metric={"loss": 0.5, "accuracy": 0.5, "f1": 0.5},
        )
    )
    db.session.commit()


def analyse():
    """Refresh the planner's statistics, as autovacuum does on a live PostgreSQL (VACUUM also
    marks pages all-visible, which index-only scans count on)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def fill_groups():
    """(a group's id, a token of its owner): ten groups of 1,000 finished experiments with five
    params and three metrics in owner/scale.

    Ten groups, not one: a page of one group among many must read that group's rows through
    an index (for a single-group table a sequential scan is the right plan).
    """
    owner = make_user("owner")
    project = make_project(owner, "scale")
    group_ids = []
    for _ in range(GROUPS):
        group = make_group(project, content=GRID)
        add_experiments(group, PER_GROUP - GRID_SIZE)
        group_ids.append(group.id)
    finish_all(group_ids)
    return group_ids[GROUPS // 2], make_token(owner)
