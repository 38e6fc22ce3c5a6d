"""The experiments table's state (filter, sort, columns, page), its column keys, its pages and
its export."""

import csv
import io
import json
from dataclasses import dataclass, replace

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from dashboard.errors import ValidationError
from dashboard.extensions import db
from dashboard.models import Experiment, TablePreference
from dashboard.services.experiment import walk
from dashboard.services.group import objective as objective_service
from dashboard.services.group import tallies, versioned
from dashboard.services.listing import apply_experiment_query, in_order, paginate_ids
from dashboard.services.lookups import load_group

TIME_FIELDS = ("created_at", "started_at", "finished_at")
# Rows fetched per round trip while exporting: memory stays that of one chunk.
EXPORT_CHUNK = 500
MAX_COLUMNS = 200
# Past any group's last page (which is then shown), within what SQL offsets can hold.
MAX_PAGE = 10**7


@dataclass(frozen=True)
class TableState:
    """What a link to the table carries: filter, sort, columns (None: saved or default), page."""

    query: str | None = None
    sort: str | None = None
    columns: tuple | None = None
    page: int = 1

    def but(self, **changes):
        """The same state with some parts changed."""
        return replace(self, **changes)


def parse_columns(raw):
    """Column keys from "a,b" text or a list of such texts (None when nothing was chosen)."""
    texts = [raw] if isinstance(raw, str) else list(raw or [])
    keys = [key.strip() for text in texts for key in text.split(",") if key.strip()]
    return tuple(dict.fromkeys(keys))[:MAX_COLUMNS] or None


def with_condition(query, condition):
    """The filter `query` and `condition` (a chart's axis range: "and" in a link), joined;
    a condition the filter holds already is not added twice."""
    terms = [t for t in (query or "").strip().split(",") if t.strip()]
    extra = [t for t in (condition or "").strip().split(",") if t.strip() and t not in terms]
    return ",".join(terms + extra) or None


def parse_state(args):
    """The table state from a request's query args (a MultiDict or a dict)."""
    try:
        page = min(max(int(args.get("page") or 1), 1), MAX_PAGE)
    except ValueError:
        page = 1
    return TableState(
        query=with_condition(args.get("query"), args.get("and")),
        sort=(args.get("sort") or "").strip() or None,
        columns=parse_columns(args.get("columns")),
        page=page,
    )


# The distinct (kind, name) pairs of a group's values, one index seek per pair: a loose index
# scan written as a recursive query (a plain DISTINCT reads every value of the group). Each step
# seeks the next name of the same kind, else the first name of the next kind.
_SAME_KIND = (
    "SELECT v.name FROM experiment_values v WHERE v.group_id = :group"
    " AND v.kind = names.kind AND v.name > names.name ORDER BY v.name LIMIT 1"
)
_NEXT_KIND = (
    "SELECT v.{column} FROM experiment_values v WHERE v.group_id = :group"
    " AND v.kind > names.kind ORDER BY v.kind, v.name LIMIT 1"
)
NAMES_SQL = text(f"""
WITH RECURSIVE names(kind, name) AS (
    SELECT kind, name FROM (
        SELECT kind, name FROM experiment_values WHERE group_id = :group
        ORDER BY kind, name LIMIT 1) AS first_name
    UNION ALL
    SELECT CASE WHEN ({_SAME_KIND}) IS NULL THEN ({_NEXT_KIND.format(column="kind")})
                ELSE names.kind END,
           COALESCE(({_SAME_KIND}), ({_NEXT_KIND.format(column="name")}))
    FROM names WHERE names.kind IS NOT NULL
)
SELECT kind, name FROM names WHERE kind IS NOT NULL
""")


def value_names(group):
    """(param names in matrix order, metric names sorted) known for the group: one query."""
    names = db.session.execute(NAMES_SQL, {"group": group.id}).all()
    matrix = list((group.hptuning or {}).get("matrix", {}))
    params = {name for kind, name in names if kind == "param"}
    ordered = [n for n in matrix if n in params] + sorted(params - set(matrix))
    return ordered, sorted(name for kind, name in names if kind == "metric")


def column_keys(params, metrics):
    """Every column key the table offers, in display order (the export's order too)."""
    return [
        "status",
        *(f"params.{name}" for name in params),
        *(f"metric.{name}" for name in metrics),
        *TIME_FIELDS,
        "duration",
    ]


def preference_query(user_id, group_id):
    """The select of a user's saved column keys for a group (a scalar subquery for one query)."""
    return select(TablePreference.columns).where(
        TablePreference.user_id == user_id, TablePreference.group_id == group_id
    )


def saved_columns_and_best(actor, group, objective):
    """The actor's saved columns for the group and its best experiment by the objective (an
    objective.Best, or None), in one query."""
    actor_id = actor.id if actor else -1
    parts = [preference_query(actor_id, group.id).scalar_subquery()]
    if objective is not None:
        best = objective_service.best_query(group.id, objective)
        parts += [
            best.with_only_columns(column).scalar_subquery() for column in best.selected_columns
        ]
    row = db.session.execute(select(*parts)).one()
    best = objective_service.Best(row[1], row[2]) if objective and row[1] is not None else None
    return row[0], best


def save_columns(access, group_id, keys):
    """Remember the user's columns for the group (anyone who can read it); returns the keys."""
    group = load_group(access, group_id)
    keys = list(parse_columns(keys) or ())
    if not keys:
        raise ValidationError(
            "Choose at least one column.", fields={"columns": ["Choose at least one column."]}
        )
    preference = db.session.scalars(
        preference_query(access.actor.id, group.id).with_only_columns(TablePreference)
    ).first()
    if preference is None:
        db.session.add(TablePreference(user_id=access.actor.id, group_id=group.id, columns=keys))
    else:
        preference.columns = keys
    try:
        db.session.commit()
    except IntegrityError:  # the same user saving twice at once: the other save stands
        db.session.rollback()
    return tuple(keys)


def filtered(group_id, state, *entities):
    """A select of entities over the group's experiments, filtered and sorted by the state.

    Query and sort go through listing.apply_experiment_query: the API's parser and SQL.
    """
    stmt = select(*entities).select_from(Experiment).where(Experiment.group_id == group_id)
    return apply_experiment_query(stmt, state.query, state.sort)


@dataclass(frozen=True)
class TablePage:
    """One page of the table: its experiments, its number, whether another follows, and how
    many experiments match (None when a filtered page was read without counting them)."""

    experiments: list
    page: int
    has_next: bool
    count: int | None


def pages_for(count, per_page):
    """How many pages of per_page rows `count` rows make (at least one; None when uncounted)."""
    return None if count is None else max(1, -(-count // per_page))


def page_of(group_id, state, per_page, total=None):
    """One page of the group's experiments filtered and sorted by the state (a TablePage).

    Without a filter the number matching is `total` (the group's, when the caller knows it).
    A page in id order, or sorted by a param or metric, is read in index order up to its end,
    its filters checked row by row: its cost is that of the rows before its end, and a filtered
    one leaves the count to `count_matching` (a fragment loads it). Any other page sorts the
    matching ids and counts them in the same query. Either way only the page's rows are loaded.
    """
    known = total if state.query is None else None
    page = state.page if known is None else min(state.page, pages_for(known, per_page))
    offset = (page - 1) * per_page
    wanted = offset + per_page + 1  # one more tells whether another page follows
    ids = walk.first_ids(
        state.query, state.sort, wanted if known is None else min(wanted, known), group_id=group_id
    )
    if ids is not None:
        if offset >= len(ids) > 0:
            # Past the last page: show the last page.
            page = pages_for(len(ids), per_page)
            offset = (page - 1) * per_page
        more = len(ids) > offset + per_page
        count = known if known is not None or more else len(ids)
        return TablePage(in_order(Experiment, ids[offset : offset + per_page]), page, more, count)
    ids_stmt = filtered(group_id, state, Experiment.id)
    count, ids = paginate_ids(ids_stmt, per_page, offset, known)
    if not ids and page > 1 and count:
        # Past the last page: show the last page.
        page = pages_for(count, per_page)
        count, ids = paginate_ids(ids_stmt, per_page, (page - 1) * per_page, count)
    return TablePage(in_order(Experiment, ids), page, page * per_page < count, count)


def count_matching(group, state):
    """(number of the group's experiments matching the state's filter, the group's total): the
    group's version (one query), then its status counts and the count (walk.count_matching,
    shared with the API's list) unless this process kept them for that version
    (services.group.versioned)."""
    version = tallies.experiments_version(group.id)
    return versioned.answers.get(
        ("count", group.uuid, version, state.query), lambda: _count_matching(group.id, state.query)
    )


def _count_matching(group_id, query):
    total = sum(tallies.experiment_counts(group_id).values())
    count = walk.count_matching(query, group_id=group_id)
    return (total if count is None else count), total


# ---- export ------------------------------------------------------------------------------


def export_columns(params, metrics, keys=None):
    """The export's header: id, then the chosen columns (as the table orders them), else
    status, the three dates, params, metrics."""
    if keys:
        # The table's order, whatever order the keys came in.
        chosen = [key for key in column_keys(params, metrics) if key in set(keys)]
        if chosen:
            return ["id"] + chosen
    return (
        ["id", "status", *TIME_FIELDS]
        + [f"params.{n}" for n in params]
        + [f"metric.{n}" for n in metrics]
    )


EXPORT_FIELDS = (
    Experiment.id,
    Experiment.status,
    Experiment.created_at,
    Experiment.started_at,
    Experiment.finished_at,
    Experiment.params,
    Experiment.last_metric,
)


def _duration(row):
    if row.started_at is None or row.finished_at is None:
        return None
    return (row.finished_at - row.started_at).total_seconds()


def _cell_reader(key):
    """The function reading one header key's value from an export row (chosen once per key)."""
    if key in ("id", "status"):
        return lambda row: getattr(row, key)
    if key in TIME_FIELDS:

        def at(row):
            value = getattr(row, key)
            return value.isoformat() if value else None

        return at
    if key == "duration":
        return _duration
    prefix, _, name = key.partition(".")
    if prefix == "params":
        return lambda row: (row.params or {}).get(name)
    return lambda row: (row.last_metric or {}).get(name)


def export_rows(group_id, state, header):
    """Every matching row (no paging) as a list of values per header key, fetched in chunks."""
    readers = [_cell_reader(key) for key in header]
    stmt = filtered(group_id, state, *EXPORT_FIELDS).execution_options(yield_per=EXPORT_CHUNK)
    for partition in db.session.execute(stmt).partitions():
        for row in partition:
            yield [read(row) for read in readers]


def _csv_text(value):
    if value is None:
        return ""
    if isinstance(value, (bool, list, dict)):
        return json.dumps(value)
    # Spreadsheets run a text cell starting with one of these as a formula (CSV injection).
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def csv_lines(group_id, state, header):
    """The export as CSV text, one chunk of lines at a time (a generator)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, values in enumerate(export_rows(group_id, state, header), start=1):
        writer.writerow([_csv_text(v) for v in values])
        if count % EXPORT_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_lines(group_id, state, header):
    """The export as a JSON array of objects keyed by the header, streamed row by row."""
    yield "["
    for index, values in enumerate(export_rows(group_id, state, header)):
        yield ("," if index else "") + json.dumps(dict(zip(header, values, strict=True)))
    yield "]\n"


def export(access, group_id, state, fmt):
    """(generator of text, filename) exporting the group's matching experiments as csv or json.

    The query and sort are checked before the first byte is sent, so a bad one is a plain 400.
    """
    if fmt not in ("csv", "json"):
        raise ValidationError(f"format must be 'csv' or 'json', not '{fmt}'.")
    group = load_group(access, group_id)
    filtered(group.id, state, Experiment.id)  # raises the 400 now, not mid-stream
    header = export_columns(*value_names(group), state.columns)
    lines = csv_lines if fmt == "csv" else json_lines
    return lines(group.id, state, header), f"group-{group.id}-experiments.{fmt}"
