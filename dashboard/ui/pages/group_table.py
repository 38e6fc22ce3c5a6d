"""The group page's experiments table: one page of rows, its columns, its count and pager."""

from dataclasses import dataclass
from datetime import timedelta

from dashboard.errors import ValidationError
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.models.types import utcnow
from dashboard.services.experiment import experiment_table
from dashboard.services.group import objective as objective_service
from dashboard.services.lookups import load_group
from dashboard.ui.pages.formatting import display_value, duration_text, span

PER_PAGE = 20
# The fixed columns' labels and kinds; a param or metric column is labelled by its name.
FIXED_COLUMNS = {
    "status": ("Status", "status"),
    "created_at": ("Created", "time"),
    "started_at": ("Started", "time"),
    "finished_at": ("Finished", "time"),
    "duration": ("Duration", "duration"),
}
DEFAULT_HIDDEN = ("created_at", "finished_at")


@dataclass(frozen=True)
class Column:
    """A column the table can show: its key (also its sort key when sortable) and its kind."""

    key: str
    label: str
    kind: str  # "status", "time", "param", "metric" or "duration"

    @property
    def sortable(self):
        return self.kind != "duration"


def _column(key):
    if key in FIXED_COLUMNS:
        return Column(key, *FIXED_COLUMNS[key])
    prefix, _, name = key.partition(".")
    return Column(key, name, "param" if prefix == "params" else "metric")


def available_columns(params, metrics):
    """Every column the chooser offers, in display order."""
    return [_column(key) for key in experiment_table.column_keys(params, metrics)]


def chosen_columns(available, keys):
    """The available columns among keys (display order); the default ones when none match."""
    wanted = set(keys or ())
    shown = [c for c in available if c.key in wanted]
    return shown or [c for c in available if c.key not in DEFAULT_HIDDEN]


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
        """ "ascending", "descending" or None: how the table is sorted by this key."""
        return {key: "ascending", f"-{key}": "descending"}.get(self.sort)


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


def _experiment_row(experiment, now, best):
    sources = {"params": experiment.params or {}, "metric": experiment.last_metric or {}}
    values = {}
    for prefix, source in sources.items():
        for name, value in source.items():
            values[f"{prefix}.{name}"] = (display_value(value, 6), display_value(value))
    final = EXPERIMENT_STATUSES.is_final(experiment.status)
    return ExperimentRow(
        id=experiment.id,
        status=experiment.status,
        values=values,
        times={key: getattr(experiment, key) for key in experiment_table.TIME_FIELDS},
        duration=span(experiment.started_at, experiment.finished_at or (None if final else now)),
        best=best is not None and best.id == experiment.id,
        ongoing=experiment.started_at is not None and experiment.finished_at is None and not final,
    )


def experiments_table(access, detail, state):
    """(table, objective, best): value names, saved columns + best, one page with its count."""
    group = detail.group
    objective = objective_service.objective_of(group)
    available = available_columns(*experiment_table.value_names(group))
    saved, best = experiment_table.saved_columns_and_best(access.actor, group, objective)
    columns = chosen_columns(available, state.columns or saved)
    error, asked_query = None, state.query
    total = sum(detail.counts.values())
    try:
        shown = experiment_table.page_of(group.id, state, PER_PAGE, total)
    except ValidationError as exc:
        # A bad query or sort is shown above the table, which stays as it was without them.
        error, state = exc.detail, state.but(query=None, sort=None)
        shown = experiment_table.page_of(group.id, state, PER_PAGE, total)
    now = utcnow()
    default = [c for c in available if c.key not in DEFAULT_HIDDEN]
    table = ExperimentTable(
        columns=columns,
        available=available,
        rows=[_experiment_row(e, now, best) for e in shown.experiments],
        state=state.but(page=shown.page),
        page=shown.page,
        has_next=shown.has_next,
        pages=pages_for(shown.count),
        count=shown.count,
        total=total,
        customised=columns != default,
        error=error,
        asked_query=asked_query,
    )
    return table, objective, best
