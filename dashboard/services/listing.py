"""Turning parsed queries and sorts into SQL, portably (SQLite and PostgreSQL alike)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from json import dumps

from sqlalchemy import Text, and_, case, func, literal, not_, or_, select, type_coerce
from sqlalchemy.orm import aliased

from dashboard.errors import ValidationError
from dashboard.extensions import db
from dashboard.ids import MAX_ID
from dashboard.models import Experiment, ExperimentGroup, ExperimentValue
from dashboard.querylang import QueryError, parse_number, parse_query, parse_sort

DATE_FIELDS = ("created_at", "updated_at", "started_at", "finished_at")
GROUP_FIELDS = ("id", "status", "name", "tags", "search_algorithm", "concurrency") + DATE_FIELDS
EXPERIMENT_FIELDS = ("id", "status", "name", "tags") + DATE_FIELDS
VALUE_KINDS = {"metric": "metric", "params": "param"}
MAX_LIMIT = 1000
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Page:
    """One page of a list: the total count and the rows."""

    count: int
    items: list
    limit: int
    offset: int


def _typed(field, value, where):
    if field in DATE_FIELDS:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{where}: '{value}' is not an ISO date for {field}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if field in ("id", "concurrency"):
        number = parse_number(value)
        if not isinstance(number, int):
            raise ValidationError(f"{where}: '{value}' is not an integer for {field}")
        if abs(number) > MAX_ID:  # past the integer columns' range (32-bit on PostgreSQL)
            raise ValidationError(f"{where}: '{value}' is out of range for {field}")
        return number
    return value


def _compare(column, op, value):
    return {
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
        "=": column == value,
    }[op]


def _tags_clause(model, values):
    # Tags are stored as JSON text; a tag matches as a whole quoted JSON string. The column is
    # read as plain Text so the pattern is not JSON-encoded again by the column's type.
    clauses = []
    for value in values:
        pattern = dumps(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(type_coerce(model.tags, Text).like(f"%{pattern}%", escape="\\"))
    return or_(*clauses)


def column_clause(model, condition):
    """The where clause of a condition on a column of model (a group or an experiment)."""
    field = condition.field
    if field == "tags":
        if condition.op != "in":
            raise ValidationError(f"query: tags accepts only values, not '{condition.op}'")
        clause = _tags_clause(model, condition.values)
    else:
        column = getattr(model, field)
        values = [_typed(field, v, "query") for v in condition.values]
        if condition.op == "in":
            clause = column.in_(values)
        elif field in ("status", "name", "search_algorithm"):
            raise ValidationError(f"query: {field} accepts only values, not '{condition.op}'")
        else:
            clause = _compare(column, condition.op, values[0])
    if condition.negate:
        return or_(not_(clause), getattr(model, field).is_(None))
    return clause


def _value_match(column_num, column_text, op, raw):
    number = parse_number(raw)
    if op == "in":
        return (
            column_text == raw
            if number is None
            else or_(
                and_(column_num.is_not(None), column_num == number),
                and_(column_num.is_(None), column_text == raw),
            )
        )
    if number is None:
        return and_(column_num.is_(None), _compare(column_text, op, raw))
    # A value compares as a number when both sides are numbers, else as a string.
    return or_(
        and_(column_num.is_not(None), _compare(column_num, op, number)),
        and_(column_num.is_(None), _compare(column_text, op, raw)),
    )


def kind_is(column, kind):
    """column = kind, written so that no index can use it: reads of one experiment's value go
    through the primary key, of one group's values through the group's index. Without
    statistics, PostgreSQL rates the index on (kind, name) as good as either (one row each
    way), and through it reads every group's values of the name, for each experiment."""
    return column.concat("") == kind


def value_rows(condition):
    """(alias of ExperimentValue, where clauses): the values meeting a param/metric condition."""
    prefix, _, name = condition.field.partition(".")
    ev = aliased(ExperimentValue)
    matches = or_(
        *[_value_match(ev.num_value, ev.text_value, condition.op, v) for v in condition.values]
    )
    return ev, (kind_is(ev.kind, VALUE_KINDS[prefix]), ev.name == name, matches)


def value_parts(condition, values):
    """(with a number, without): where clauses on values (an ExperimentValue alias) for those
    meeting a param/metric condition (its negation aside), as two ranges of a group's index on
    values (its rows with a number, those without), each clause one that index can use."""
    prefix, _, name = condition.field.partition(".")
    matches = or_(
        *[
            _value_match(values.num_value, values.text_value, condition.op, v)
            for v in condition.values
        ]
    )
    raw = condition.values[0] if len(condition.values) == 1 else None
    number = None if raw is None or condition.op == "in" else parse_number(raw)
    if number is None:
        numbers = and_(values.num_value.is_not(None), matches)
        others = and_(values.num_value.is_(None), matches)
    else:  # _value_match's two halves
        numbers = _compare(values.num_value, condition.op, number)
        others = and_(values.num_value.is_(None), _compare(values.text_value, condition.op, raw))
    named = (values.kind == VALUE_KINDS[prefix], values.name == name)
    return (*named, numbers), (*named, others)


def value_check(condition, experiment_id):
    """Whether the experiment of experiment_id meets a param/metric condition (a where clause)."""
    # One experiment's value, looked up by its primary key: a cost per row read, whatever the
    # planner believes. A scalar subquery, not EXISTS or IN: PostgreSQL turns those into joins
    # whose order rests on its statistics, and with none yet for a new group (a grid creates
    # thousands of experiments at once) it picked a nested loop reading the group's values
    # once per experiment: quadratic, past the statement timeout at 2,000 experiments.
    ev, where = value_rows(condition)
    found = select(literal(1)).where(ev.experiment_id == experiment_id, *where).limit(1)
    return (
        found.scalar_subquery().is_(None)
        if condition.negate
        else (found.scalar_subquery().is_not(None))
    )


def _nulls_last(column, descending):
    return [case((column.is_(None), 1), else_=0), column.desc() if descending else column.asc()]


def parsed(parser, text, **kwargs):
    """Run a querylang parser, turning its errors into 400s."""
    try:
        return parser(text, **kwargs)
    except QueryError as exc:
        raise ValidationError(str(exc)) from None


def experiment_conditions(query):
    """The conditions of an experiments query (none for no query)."""
    # Metrics are numbers (EXTENSIONS §0): a metric compared with anything else is a 400.
    return parsed(
        parse_query, query, known=EXPERIMENT_FIELDS, prefixed=VALUE_KINDS, numeric=("metric",)
    )


def apply_group_query(stmt, query, sort):
    """Filter and order a select of ExperimentGroup (default order -created_at)."""
    for condition in parsed(parse_query, query, known=GROUP_FIELDS):
        stmt = stmt.where(column_clause(ExperimentGroup, condition))
    order = []
    for key in parsed(parse_sort, sort, known=GROUP_FIELDS):
        order += _nulls_last(getattr(ExperimentGroup, key.field), key.descending)
    if not order:
        order = [ExperimentGroup.created_at.desc()]
    return stmt.order_by(*order, ExperimentGroup.id.desc())


def _experiment_clause(condition, experiment_id):
    # A condition on one of a group's experiments: its param/metric value, or a column.
    if "." in condition.field:
        return value_check(condition, experiment_id)
    return column_clause(Experiment, condition)


def _sort_value(experiment_id, kind, name):
    # (number, text) of the experiment's value, each read through the primary key: a join
    # would be planned on statistics, and without them PostgreSQL read a group's values once
    # per experiment.
    ev = aliased(ExperimentValue)
    found = select(ev).where(
        ev.experiment_id == experiment_id, kind_is(ev.kind, kind), ev.name == name
    )
    return (
        found.with_only_columns(ev.num_value).scalar_subquery(),
        found.with_only_columns(ev.text_value).scalar_subquery(),
    )


def apply_experiment_query(stmt, query, sort):
    """Filter and order a select of one group's experiments (default order id)."""
    for condition in experiment_conditions(query):
        stmt = stmt.where(_experiment_clause(condition, Experiment.id))
    order = []
    for key in parsed(parse_sort, sort, known=EXPERIMENT_FIELDS, prefixed=VALUE_KINDS):
        if "." in key.field:
            prefix, _, name = key.field.partition(".")
            # Numbers first (numerically), then other values as text, then missing values
            # (every value has its text): each read once per row.
            for value in _sort_value(Experiment.id, VALUE_KINDS[prefix], name):
                order.append((value.desc() if key.descending else value.asc()).nulls_last())
        else:
            order += _nulls_last(getattr(Experiment, key.field), key.descending)
    return stmt.order_by(*order, Experiment.id)


def paginate_ids(stmt, limit, offset, count=None):
    """(count, ids) for one page of a sorted select of ids: one query, the count being a window
    over the same rows unless the caller knows it; a count query only past the end."""
    if count is None:
        stmt = stmt.add_columns(func.count().over())
    rows = db.session.execute(stmt.limit(limit).offset(offset)).all()
    if count is None and rows:
        count = rows[0][1]
    elif count is None:
        count = (
            db.session.execute(
                select(func.count()).select_from(stmt.order_by(None).subquery())
            ).scalar_one()
            if offset
            else 0
        )
    return count, [row[0] for row in rows]


def in_order(model, ids):
    """The rows of these ids, in the order of the ids (one query; none for no ids)."""
    if not ids:
        return []
    loaded = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
    return [loaded[i] for i in ids if i in loaded]


def paginate(stmt, limit, offset):
    """Run a select for one page; two queries whatever the size (count, then rows)."""
    count = db.session.execute(
        select(func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(stmt.limit(limit).offset(offset)).all()
    return Page(count=count, items=rows, limit=limit, offset=offset)
