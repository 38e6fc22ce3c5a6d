"""A group's experiments read in the order of a sort, from an index, stopping where a page ends,
and the matches of a filter counted unsorted.

Filters are checked row by row through primary keys and every walk asks for its index's own
order, so that no plan rests on the planner's statistics. A grid of thousands of experiments
is created at once, and until PostgreSQL analyses it, it believes the group holds a dozen
rows: joins and sorts planned on that belief read a group's values once per experiment
(quadratic), or check and sort all of its rows for one page.
"""

from itertools import groupby

from sqlalchemy import func, intersect, literal, select, union_all
from sqlalchemy.orm import aliased

from dashboard.extensions import db
from dashboard.ids import MAX_ID
from dashboard.models import Experiment, ExperimentValue
from dashboard.querylang import parse_sort
from dashboard.services.listing import (
    EXPERIMENT_FIELDS,
    VALUE_KINDS,
    column_clause,
    experiment_conditions,
    kind_is,
    parsed,
    value_check,
    value_parts,
)


def _limit(stmt, n):
    # The LIMIT is a subquery, which PostgreSQL cannot read: it then plans for a tenth of the
    # rows it expects and reads an index in order, stopping early. Told the number, on a group
    # it believes holds a dozen rows, it checks and sorts them all (a bitmap scan and a sort).
    return stmt.limit(select(literal(n)).scalar_subquery())


def _first(stmt, n):
    return db.session.execute(_limit(stmt, n)).all()


def _index_order(values):
    # The order of the group's index on values: no other index gives it without a sort.
    return values.num_value, values.text_value, values.experiment_id


def _checks(conditions, experiment_id, *, on_experiments):
    """Where clauses checking every condition on the experiment of experiment_id. Values are
    looked up by their primary key; columns are read from the row itself when the rows are the
    experiments, else through one lookup of the experiment by its primary key."""
    checks = [value_check(c, experiment_id) for c in conditions if "." in c.field]
    columns = [c for c in conditions if "." not in c.field]
    if columns and on_experiments:
        checks += [column_clause(Experiment, c) for c in columns]
    elif columns:
        experiment = aliased(Experiment)
        found = select(literal(1)).where(
            experiment.id == experiment_id, *[column_clause(experiment, c) for c in columns]
        )
        checks.append(found.scalar_subquery().is_not(None))
    return checks


def count_matching(query, *, group_id):
    """How many of the group's experiments match the query (one query, nothing sorted), or
    None when the query has no condition (the group's status counts know)."""
    conditions = experiment_conditions(query)
    if not conditions:
        return None
    needed = [c for c in conditions if "." in c.field and not c.negate]
    if not needed:
        stmt = select(func.count()).where(
            Experiment.group_id == group_id,
            *_checks(conditions, Experiment.id, on_experiments=True),
        )
    else:
        # The experiments each condition that needs a value finds in the group's index; those
        # all of them find meet them all (an experiment has one value of a name at most), the
        # other conditions are checked per row.
        found = [_found(c, group_id) for c in needed]
        matched = (found[0] if len(found) == 1 else intersect(*found)).subquery()
        others = [c for c in conditions if c not in needed]
        stmt = (
            select(func.count())
            .select_from(matched)
            .where(*_checks(others, matched.c.experiment_id, on_experiments=False))
        )
    return db.session.execute(stmt).scalar_one()


def _found(condition, group_id):
    # The ids of the values meeting a condition: two ranges of the group's index (with a
    # number, without), each read in that index's order so that no other index competes (one
    # on (kind, name) would read every group's values of the name).
    ev = aliased(ExperimentValue)
    ranges = [
        _limit(
            select(ev.experiment_id)
            .where(ev.group_id == group_id, *part)
            .order_by(*_index_order(ev)),
            MAX_ID,
        ).subquery()
        for part in value_parts(condition, ev)
    ]
    both = union_all(*[select(r.c.experiment_id) for r in ranges]).subquery()
    return select(both.c.experiment_id)


def first_ids(query, sort, n, *, group_id):
    """The first n ids (all, when fewer match) of the order apply_experiment_query gives the
    group's experiments, or None where no index gives that order (status, name, tags, dates, or
    two keys). Its cost is that of the rows read up to the n-th match, never a sort of them all.

    Sorted by a param or metric, the order has three parts, read one after the other as far as
    needed: the values with a number (by number, then text), those without (by text), then the
    experiments without the value (by id); ties by id.
    """
    conditions = experiment_conditions(query)
    keys = parsed(parse_sort, sort, known=EXPERIMENT_FIELDS, prefixed=VALUE_KINDS)
    if len(keys) > 1 or (keys and keys[0].field != "id" and "." not in keys[0].field):
        return None
    if n <= 0:
        return []
    if not keys or keys[0].field == "id":
        descending = bool(keys) and keys[0].descending
        stmt = select(Experiment.id).where(
            Experiment.group_id == group_id,
            *_checks(conditions, Experiment.id, on_experiments=True),
        )
        order = Experiment.id.desc() if descending else Experiment.id
        return [row.id for row in _first(stmt.order_by(order), n)]
    prefix, _, name = keys[0].field.partition(".")
    kind = VALUE_KINDS[prefix]
    # A condition on the sorted value itself narrows the walk's range instead of being looked
    # up per row; no experiment without the value meets it.
    on_key = [c for c in conditions if c.field == keys[0].field and not c.negate]
    others = [c for c in conditions if c not in on_key]
    ids = []
    for numbers in (True, False):
        ids += _values(
            others, on_key, group_id, kind, name, numbers, keys[0].descending, n - len(ids)
        )
        if len(ids) == n:
            return ids
    return ids if on_key else ids + _without_value(others, group_id, kind, name, n - len(ids))


def _values(conditions, on_key, group_id, kind, name, numbers, descending, n):
    # One part of the group's values of a name, in the order of its index (number, text, id),
    # forwards or backwards: any other order would be a sort of the whole part.
    sv = aliased(ExperimentValue)
    stmt = select(sv.experiment_id, sv.num_value, sv.text_value).where(
        sv.group_id == group_id,
        sv.kind == kind,
        sv.name == name,
        sv.num_value.is_not(None) if numbers else sv.num_value.is_(None),
        *[clause for c in on_key for clause in value_parts(c, sv)[0 if numbers else 1]],
        *_checks(conditions, sv.experiment_id, on_experiments=False),
    )
    index_order = _index_order(sv)
    if not descending:
        return [row.experiment_id for row in _first(stmt.order_by(*index_order), n)]
    # Backwards, the index lists equal values by id downwards; the order wants them upwards.
    rows = _first(stmt.order_by(*[c.desc() for c in index_order]), n + 1)
    ties = [[row.experiment_id for row in tie][::-1] for _, tie in groupby(rows[:n], key=_tie)]
    if len(rows) > n and _tie(rows[n]) == _tie(rows[n - 1]):
        # The last tie goes on past the n-th row: its lowest ids come first, not its highest.
        num, text = rows[n - 1].num_value, rows[n - 1].text_value
        tie = stmt.where(
            sv.num_value.is_(None) if num is None else sv.num_value == num,
            sv.text_value.is_(None) if text is None else sv.text_value == text,
        )
        ties[-1] = [row.experiment_id for row in _first(tie.order_by(*index_order), len(ties[-1]))]
    return [i for tie in ties for i in tie]


def _tie(row):
    # NaN equals NaN in PostgreSQL's order, not in Python's.
    num = row.num_value
    return ("nan" if num != num else num), row.text_value


def _without_value(conditions, group_id, kind, name, n):
    # The experiments with no value of the name, by id, each looked up by its primary key.
    ev = aliased(ExperimentValue)
    found = select(literal(1)).where(
        ev.experiment_id == Experiment.id, kind_is(ev.kind, kind), ev.name == name
    )
    stmt = select(Experiment.id).where(
        Experiment.group_id == group_id,
        found.scalar_subquery().is_(None),
        *_checks(conditions, Experiment.id, on_experiments=True),
    )
    return [row.id for row in _first(stmt.order_by(Experiment.id), n)]
