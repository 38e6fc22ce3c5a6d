"""What the group page shows, gathered in a constant number of queries whatever the group's size."""

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from dashboard.errors import ValidationError, field_error
from dashboard.extensions import db
from dashboard.hptuning import matrix_values
from dashboard.hptuning.options import discrete_values, option_length
from dashboard.hptuning.search import grid_size
from dashboard.hptuning.spec import MAX_CONCURRENCY, MIN_CONCURRENCY
from dashboard.models import GroupStatus
from dashboard.models.statuses import EXPERIMENT_STATUSES, RUNNING_EXPERIMENT_STATUSES
from dashboard.models.types import utcnow
from dashboard.services import experiment_table, groups, tensorboards
from dashboard.services import objective as objective_service
from dashboard.services.experiment_table import TableState
from dashboard.services.lookups import load_group

PER_PAGE = 20
# Ranges longer than this show their first values and their last one.
MAX_SHOWN_VALUES = 12
MAX_TAGS, MAX_TAG_LENGTH, MAX_DESCRIPTION = 50, 64, 10000


# ---- display helpers (pure) --------------------------------------------------------------

def display_value(value, digits=10):
    """A param, metric or spec value as text (floats to `digits` significant digits)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return format(value, f".{digits}g")
    if isinstance(value, (int, str)):
        return str(value)
    return json.dumps(value)


def duration_text(delta):
    """A timedelta as "45s", "3m 05s", "2h 03m" or "4d 5h"; "—" for None."""
    if delta is None:
        return "—"
    minutes, seconds = divmod(max(int(delta.total_seconds()), 0), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _span(start, end):
    return None if start is None or end is None else end - start


def _plural(count, word="experiment"):
    return word if count == 1 else f"{word}s"


# ---- page parts --------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusSpan:
    """One status row and how long the group stayed in it (None for a final status)."""

    status: str
    message: str | None
    created_at: datetime
    duration: timedelta | None
    ongoing: bool

    @property
    def duration_text(self):
        if self.duration is None:
            return "final"
        return duration_text(self.duration) + (" so far" if self.ongoing else "")


@dataclass(frozen=True)
class CountSegment:
    """The experiments in one status: their number and share of the group."""

    status: str
    count: int
    percent: float


@dataclass(frozen=True)
class StopPreview:
    """What Stop and Stop pending would change, in words for their confirmations."""

    running: int
    pending: int

    @property
    def all_text(self):
        running, pending = self.running, self.pending
        if running and pending:
            total = _plural(running + pending)
            return f"{running} running and {pending} pending {total} will be stopped."
        if running or pending:
            count, kind = (running, "running") if running else (pending, "pending")
            return f"{count} {kind} {_plural(count)} will be stopped."
        return "No experiment is running or pending; the group will be marked stopped."

    @property
    def pending_text(self):
        pending, running = self.pending, self.running
        stopped = (f"{pending} pending {_plural(pending)} will be stopped" if pending
                   else "No pending experiment to stop")
        if running:
            return f"{stopped}, {running} running will finish."
        return f"{stopped}."


@dataclass(frozen=True)
class MatrixRow:
    """One param of the matrix: its option, normalised spec, and values or distribution."""

    name: str
    option: str
    spec_text: str
    values: list | None
    size: int | None
    description: str | None
    hint: str | None = None

    @property
    def hidden(self):
        """How many values are left out of `values` (a long range shows its ends)."""
        return 0 if self.values is None or self.size is None else self.size - len(self.values)


@dataclass(frozen=True)
class MatrixView:
    """The hptuning section in readable form."""

    algorithm: str
    settings: list
    concurrency: int
    seed: int | None
    early_stopping: list
    rows: list
    grid_size: int | None
    concurrency_range: tuple = (MIN_CONCURRENCY, MAX_CONCURRENCY)


@dataclass(frozen=True)
class ExperimentRow:
    """One experiment as the table shows it; values are (short text, full text) pairs by key."""

    id: int
    status: str
    values: dict
    times: dict
    duration: timedelta | None
    best: bool = False
    ongoing: bool = False  # its duration still grows (the page ticks it: static/app.js)

    @property
    def started_at(self):
        return self.times.get("started_at")

    @property
    def duration_text(self):
        return duration_text(self.duration)


def pages_for(count):
    """The number of table pages for a count of experiments (None for an unknown count)."""
    return experiment_table.pages_for(count, PER_PAGE)


@dataclass(frozen=True)
class ExperimentTable:
    """One page of the group's experiments, filtered and sorted, with its chosen columns."""

    columns: list
    available: list
    rows: list
    state: experiment_table.TableState
    page: int
    has_next: bool
    pages: int | None  # None until the matches are counted (a fragment loads the count)
    count: int | None
    total: int
    customised: bool = False  # the columns differ from the default ones (links carry them)
    error: str | None = None  # a bad query or sort: shown inline, the table left unfiltered
    asked_query: str | None = None  # the filter as typed (kept in the box when it is bad)

    @property
    def sort(self):
        return self.state.sort

    @property
    def column_keys(self):
        return tuple(column.key for column in self.columns)

    def shows(self, key):
        return key in self.column_keys

    def next_sort(self, key):
        """The sort a column header links to: ascending first, then descending."""
        return f"-{key}" if self.sort == key else key

    def sorted_by(self, key):
        """"ascending", "descending" or None: how the table is sorted by this key."""
        return {key: "ascending", f"-{key}": "descending"}.get(self.sort)


@dataclass(frozen=True)
class GroupPage:
    """Everything the group page (or one of its fragments) shows."""

    detail: groups.GroupDetail
    now: datetime
    history: list = field(default_factory=list)
    matrix: MatrixView | None = None
    experiments: ExperimentTable | None = None
    tensorboard: object = None  # the latest TensorBoard job, if the group ever had one
    objective: objective_service.Objective | None = None
    best: objective_service.Best | None = None

    @property
    def group(self):
        return self.detail.group

    @property
    def total(self):
        return sum(self.detail.counts.values())

    @property
    def counts(self):
        """Every experiment status in lifecycle order, with its count and share."""
        total = self.total
        return [
            CountSegment(status, self.detail.counts.get(status, 0),
                         100.0 * self.detail.counts.get(status, 0) / total if total else 0.0)
            for status in EXPERIMENT_STATUSES.statuses
        ]

    @property
    def stop_preview(self):
        return StopPreview(running=self.detail.count(*RUNNING_EXPERIMENT_STATUSES),
                           pending=self.detail.count("created"))

    @property
    def duration(self):
        group = self.group
        return _span(group.started_at, group.finished_at or (None if group.is_final else self.now))

    @property
    def duration_text(self):
        return duration_text(self.duration)

    def changed_since(self, status):
        """Whether the group's status differs from the one a poller last saw."""
        return status != self.group.status


def group_page(access, group_id, state=None):
    """The whole page: detail, history, matrix, the asked view of the experiments, the best.

    Six queries: the group, its counts, its history, its value names, the saved columns with
    the best experiment, one page of experiments (with its count).
    """
    detail, now = groups.get_group(access, group_id), utcnow()
    table, objective, best = _experiments(access, detail, state or TableState())
    return GroupPage(detail=detail, now=now, history=_history(detail.group, now),
                     matrix=matrix_view(detail.group.hptuning, detail.group.search_algorithm),
                     experiments=table, tensorboard=_tensorboard(detail), objective=objective,
                     best=best)


def _with_best(detail):
    objective = objective_service.objective_of(detail.group)
    return {"objective": objective,
            "best": objective_service.best_experiment(detail.group, objective)}


def group_summary(access, group_id):
    """Header, actions, counts and history (what polling and actions refresh): four queries
    (five once the group has had a TensorBoard)."""
    detail, now = groups.get_group(access, group_id), utcnow()
    return GroupPage(detail=detail, now=now, history=_history(detail.group, now),
                     tensorboard=_tensorboard(detail), **_with_best(detail))


def group_with_matrix(access, group_id):
    """Header, counts and the hptuning card (what a concurrency change refreshes)."""
    detail, now = groups.get_group(access, group_id), utcnow()
    return GroupPage(detail=detail, now=now, history=_history(detail.group, now),
                     matrix=matrix_view(detail.group.hptuning, detail.group.search_algorithm),
                     tensorboard=_tensorboard(detail), **_with_best(detail))


def concurrency_field(raw):
    """The group update of the UI's concurrency form: a whole number in the spec's range."""
    try:
        value = int((raw or "").strip())
    except ValueError:
        value = 0
    if not MIN_CONCURRENCY <= value <= MAX_CONCURRENCY:
        raise field_error("concurrency", f"Concurrency is a whole number from {MIN_CONCURRENCY} "
                                         f"to {MAX_CONCURRENCY:,}.")
    return {"concurrency": value}


def group_experiments(access, group_id, state=None):
    """The experiments table with the best experiment (filtering, sorting, paging swap it)."""
    detail = groups.get_group(access, group_id)
    table, objective, best = _experiments(access, detail, state or TableState())
    return GroupPage(detail=detail, now=utcnow(), experiments=table, objective=objective,
                     best=best)


@dataclass(frozen=True)
class TableCount:
    """A filtered view's count, and where its page stands among the pages it makes."""

    state: experiment_table.TableState
    count: int
    total: int
    final: bool  # the group is final: its table no longer updates

    @property
    def pages(self):
        return pages_for(self.count)

    @property
    def page(self):
        return min(self.state.page, self.pages)

    @property
    def has_next(self):
        return self.page < self.pages


def table_count(access, group_id, state):
    """How many of the group's experiments match the state's filter, of how many: four queries
    (two while the group's experiments stay the same)."""
    group = load_group(access, group_id)
    count, total = experiment_table.count_matching(group, state)
    return TableCount(state=state, count=count, total=total, final=group.is_final)


def edit_fields(*, description, tags):
    """The group update of the UI's edit form: description text, tags as comma-separated text."""
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise field_error("description",
                          f"The description is too long (at most {MAX_DESCRIPTION} characters).")
    tag_list = list(dict.fromkeys(t.strip() for t in (tags or "").split(",") if t.strip()))
    if len(tag_list) > MAX_TAGS:
        raise field_error("tags", f"At most {MAX_TAGS} tags are allowed.")
    if any(len(tag) > MAX_TAG_LENGTH for tag in tag_list):
        raise field_error("tags", f"Each tag is at most {MAX_TAG_LENGTH} characters.")
    return {"description": description or None, "tags": tag_list or None}


# ---- queries -----------------------------------------------------------------------------

def _tensorboard(detail):
    # One more query only for groups that ever had a TensorBoard.
    return tensorboards.latest_job(detail.group.id) if detail.tensorboard_status else None


def _history(group, now):
    rows = db.session.scalars(
        select(GroupStatus).where(GroupStatus.group_id == group.id).order_by(GroupStatus.id)
    ).all()
    # Each status lasts until the next one; the last until now, or it is the final one.
    ends = [row.created_at for row in rows[1:]] + [None if group.is_final else now]
    return [StatusSpan(row.status, row.message, row.created_at,
                       None if end is None else end - row.created_at, ongoing=end is now)
            for row, end in zip(rows, ends, strict=True)]


def _preference_and_best(access, group, objective):
    """The user's saved columns and the best experiment (id, value), in one query."""
    actor_id = access.actor.id if access.actor else -1
    parts = [experiment_table.preference_query(actor_id, group.id).scalar_subquery()]
    if objective is not None:
        best = objective_service.best_query(group.id, objective)
        parts += [best.with_only_columns(column).scalar_subquery()
                  for column in best.selected_columns]
    row = db.session.execute(select(*parts)).one()
    best = objective_service.Best(row[1], row[2]) if objective and row[1] is not None else None
    return row[0], best


def _experiment_row(experiment, now, best):
    sources = {"params": experiment.params or {}, "metric": experiment.last_metric or {}}
    values = {}
    for prefix, source in sources.items():
        for name, value in source.items():
            values[f"{prefix}.{name}"] = (display_value(value, 6), display_value(value))
    final = EXPERIMENT_STATUSES.is_final(experiment.status)
    return ExperimentRow(
        id=experiment.id, status=experiment.status, values=values,
        times={key: getattr(experiment, key) for key in experiment_table.TIME_FIELDS},
        duration=_span(experiment.started_at, experiment.finished_at or (None if final else now)),
        best=best is not None and best.id == experiment.id,
        ongoing=experiment.started_at is not None and experiment.finished_at is None and not final,
    )


def _experiments(access, detail, state):
    """(table, objective, best): value names, saved columns + best, one page with its count."""
    group = detail.group
    objective = objective_service.objective_of(group)
    available = experiment_table.available_columns(*experiment_table.value_names(group))
    saved, best = _preference_and_best(access, group, objective)
    columns = experiment_table.chosen_columns(available, state.columns or saved)
    error, asked_query = None, state.query
    total = sum(detail.counts.values())
    try:
        shown = experiment_table.page_of(group.id, state, PER_PAGE, total)
    except ValidationError as exc:
        # A bad query or sort is shown above the table, which stays as it was without them.
        error, state = exc.detail, state.but(query=None, sort=None)
        shown = experiment_table.page_of(group.id, state, PER_PAGE, total)
    now = utcnow()
    default = [c for c in available if c.key not in experiment_table.DEFAULT_HIDDEN]
    table = ExperimentTable(
        columns=columns, available=available,
        rows=[_experiment_row(e, now, best) for e in shown.experiments],
        state=state.but(page=shown.page), page=shown.page, has_next=shown.has_next,
        pages=pages_for(shown.count), count=shown.count, total=total,
        customised=columns != default, error=error, asked_query=asked_query)
    return table, objective, best




# ---- the hptuning matrix -----------------------------------------------------------------

DISTRIBUTIONS = {
    "uniform": "uniform between {low} and {high}",
    "quniform": "uniform between {low} and {high}, rounded to a multiple of {q}",
    "loguniform": "log-uniform: exp(U({low}, {high}))",
    "qloguniform": "log-uniform: exp(U({low}, {high})), rounded to a multiple of {q}",
    "normal": "normal: mean {loc}, standard deviation {scale}",
    "qnormal": "normal: mean {loc}, standard deviation {scale}, rounded to a multiple of {q}",
    "lognormal": "log-normal: exp(N({loc}, {scale}))",
    "qlognormal": "log-normal: exp(N({loc}, {scale})), rounded to a multiple of {q}",
}
ALGORITHM_BLOCKS = {"grid": "grid_search", "random": "random_search", "hyperband": "hyperband",
                    "bo": "bo"}


def _spec_text(spec):
    if isinstance(spec, dict):
        return ", ".join(f"{key}={_setting_text(value)}" for key, value in spec.items())
    return json.dumps(spec)


def _setting_text(value):
    if value is None:
        return "not set"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_setting_text(v)}" for key, v in value.items())
    return display_value(value)


def _values_shown(option, spec, size):
    if size <= MAX_SHOWN_VALUES:
        return [display_value(v) for v in matrix_values(option, spec)]
    values = discrete_values(option, spec)
    head = [values[i] for i in range(MAX_SHOWN_VALUES - 1)]
    return [display_value(v) for v in head + [values[size - 1]]]


def matrix_row(name, option, spec):
    """One param of the normalised matrix, described for people."""
    size = option_length(option, spec)
    if option == "pvalues":
        description = "one of " + ", ".join(
            f"{display_value(value)} (p={display_value(p)})" for value, p in spec)
        return MatrixRow(name, option, _spec_text(spec), None, size, description)
    if option in DISTRIBUTIONS:
        text = DISTRIBUTIONS[option].format(**{k: display_value(v) for k, v in spec.items()})
        if option in ("loguniform", "qloguniform"):
            low, high = (display_value(math.exp(spec[k]), 3) for k in ("low", "high"))
            return MatrixRow(name, option, _spec_text(spec), None, None, text,
                             f"values from {low} to {high}")
        return MatrixRow(name, option, _spec_text(spec), None, None, text)
    values = _values_shown(option, spec, size) if size else []
    return MatrixRow(name, option, _spec_text(spec), values, size, None)


def _stopping_text(rule):
    sign = "≥" if rule["optimization"] == "maximize" else "≤"
    value, optimization = display_value(rule["value"]), rule["optimization"]
    text = f"stop when {rule['metric']} {sign} {value} ({optimization})"
    policy = rule.get("policy")
    if policy:
        every = policy["evaluation_interval"]
        text += f"; {policy['kind']} policy every {every} evaluation{'s' if every != 1 else ''}"
        if "percent" in policy:
            text += f", {policy['percent']}%"
    return text


def matrix_view(hptuning, algorithm):
    """The algorithm, its settings, concurrency, seed, early stopping and one row per param."""
    block = hptuning.get(ALGORITHM_BLOCKS.get(algorithm, ""), None) or {}
    matrix = hptuning.get("matrix") or {}
    rows = [matrix_row(name, *next(iter(entry.items()))) for name, entry in matrix.items()]
    return MatrixView(
        algorithm=algorithm,
        settings=[(key.replace("_", " "), _setting_text(value)) for key, value in block.items()],
        concurrency=hptuning.get("concurrency", 1),
        seed=hptuning.get("seed"),
        early_stopping=[_stopping_text(rule) for rule in hptuning.get("early_stopping") or []],
        rows=rows,
        grid_size=grid_size(matrix) if matrix else None,
    )
