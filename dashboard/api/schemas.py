"""Every request and response shape of the JSON API, declared once (pydantic 2)."""

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    field_validator,
)

from dashboard.hptuning.spec import MAX_CONCURRENCY, MIN_CONCURRENCY
from dashboard.names import MAX_NAME, is_slug
from dashboard.services.objective import MAX_METRIC_NAME

# ISO 8601 with microseconds and an explicit offset, e.g. 2026-11-26T22:37:47.820000+00:00.
Timestamp = Annotated[
    datetime, PlainSerializer(lambda d: d.isoformat(timespec="microseconds"), return_type=str)
]


# The slug rule as the OpenAPI document states it for names (check_slug enforces it).
SLUG_SCHEMA = {"pattern": rf"^[A-Za-z0-9_-]{{1,{MAX_NAME}}}$"}


def check_slug(value):
    """Names are slugs: letters, digits, underscores and hyphens, at most 128 characters."""
    if value is not None and not is_slug(value):
        raise ValueError(
            "Enter a valid name: letters, numbers, underscores or hyphens (at most 128)."
        )
    return value


def check_tags(value):
    if value is None:
        return value
    if len(value) > 50:
        raise ValueError("At most 50 tags are allowed.")
    for tag in value:
        if not tag.strip() or len(tag) > 64:
            raise ValueError("Each tag is a non-empty string of at most 64 characters.")
    return value


class Request(BaseModel):
    """Request bodies: strict types; unknown and read-only fields are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---- requests ---------------------------------------------------------------------------


class LoginIn(Request):
    username: str = Field(max_length=150)
    password: str = Field(max_length=1024)


class ProjectCreateIn(Request):
    name: str = Field(json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=10000)
    is_public: bool = True
    tags: list[str] | None = None

    _slug = field_validator("name")(check_slug)
    _tags = field_validator("tags")(check_tags)


class GroupCreateIn(Request):
    content: str = Field(min_length=1)
    name: str | None = Field(default=None, json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=10000)
    tags: list[str] | None = None

    _slug = field_validator("name")(check_slug)
    _tags = field_validator("tags")(check_tags)


class GroupUpdateIn(Request):
    name: str | None = Field(default=None, json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=10000)
    tags: list[str] | None = None
    merge: bool = False
    concurrency: int | None = Field(default=None, ge=MIN_CONCURRENCY, le=MAX_CONCURRENCY)

    _slug = field_validator("name")(check_slug)
    _tags = field_validator("tags")(check_tags)


class StopIn(Request):
    pending: bool = False


class StatusIn(Request):
    status: str
    message: str | None = Field(default=None, max_length=10000)


class TensorboardStartIn(Request):
    content: Any = None
    is_managed: bool | None = None


class ExperimentUpdateIn(Request):
    name: str | None = Field(default=None, json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=10000)
    tags: list[str] | None = None
    merge: bool = False

    _slug = field_validator("name")(check_slug)
    _tags = field_validator("tags")(check_tags)


class RunnerReportIn(Request):
    """A Celery worker's start or heartbeat: its node name, host and the experiment's pid."""

    worker: str = Field(min_length=1, max_length=255)
    host: str = Field(min_length=1, max_length=255)
    pid: int | None = Field(default=None, ge=1)


class ExperimentStatusIn(Request):
    status: str
    message: str | None = Field(default=None, max_length=10000)
    traceback: str | None = Field(default=None, max_length=100000)


# Metric names: what the query language can name after `metric.` (no , : | ~ or spaces).
METRIC_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,127}$")
MAX_METRICS = 100
MAX_METRIC_REPORTS = 1000


def check_metric_values(values):
    """A flat object of at most 100 sane names, each a finite number (not a boolean)."""
    if not values:
        raise ValueError("Report at least one metric.")
    if len(values) > MAX_METRICS:
        raise ValueError(f"At most {MAX_METRICS} metrics per report, not {len(values)}.")
    problems = []
    for name, value in values.items():
        if not METRIC_NAME.match(name):
            problems.append(f"'{name[:140]}' is not a valid metric name (letters, digits, "
                            "_ . - /, at most 128).")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{name}: {json_repr(value)} is not a number.")
        elif not _finite(value):
            problems.append(f"{name}: {json_repr(value)} is not a finite number.")
    if problems:
        raise ValueError(" ".join(problems))
    return values


def _finite(number):
    """Whether a number is a finite float (an integer past a float's range is not)."""
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def json_repr(value):
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def check_report_time(value):
    """An ISO 8601 string (T or a space before the time); a naive time is UTC."""
    if value is None:
        return value
    if not isinstance(value, str):
        raise ValueError("Enter an ISO 8601 date and time, e.g. 2026-11-26T22:37:47.820000+00:00.")
    return value


class MetricIn(Request):
    values: dict[str, Any]
    created_at: Annotated[datetime | None, Field(strict=False)] = None

    _values = field_validator("values")(check_metric_values)
    _created_at = field_validator("created_at", mode="before")(check_report_time)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class MetricListIn(RootModel[Annotated[list[MetricIn],
                                        Field(min_length=1, max_length=MAX_METRIC_REPORTS)]]):
    """The tracking client's batch: a list of metric reports."""


# ---- responses --------------------------------------------------------------------------


class TokenOut(Response):
    token: str


class UserOut(Response):
    username: str
    email: str | None
    is_superuser: bool


class VersionsOut(Response):
    latest_version: str
    min_version: str


class LogHandlerOut(Response):
    dsn: str | None
    environment: str
    tags: dict


class ProjectOut(Response):
    id: int
    uuid: str
    name: str
    user: str
    unique_name: str
    description: str | None
    is_public: bool
    tags: list[str] | None
    created_at: Timestamp
    updated_at: Timestamp


class _GroupOut(Response):
    """Fields shared by a group's list row and its detail."""

    id: int
    uuid: str
    name: str | None
    unique_name: str
    user: str
    description: str | None
    last_status: str
    project: str
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    tags: list[str] | None
    concurrency: int
    search_algorithm: str


class GroupRowOut(_GroupOut):
    bookmarked: bool


class GroupDetailOut(_GroupOut):
    current_iteration: int
    content: str
    hptuning: dict
    has_tensorboard: bool | None
    num_experiments: int
    num_pending_experiments: int
    num_running_experiments: int
    num_scheduled_experiments: int
    num_succeeded_experiments: int
    num_failed_experiments: int
    num_stopped_experiments: int
    bookmarked: bool


class BookmarkOut(Response):
    content_object: GroupRowOut


class GroupStatusOut(Response):
    id: int
    uuid: str
    created_at: Timestamp
    message: str | None
    status: str
    experiment_group: int


class ExperimentOut(Response):
    id: int
    uuid: str
    name: str | None
    unique_name: str
    user: str
    description: str | None
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    last_status: str
    project: str
    experiment_group: str
    tags: list[str] | None
    last_metric: dict | None
    params: dict
    bookmarked: bool


class TensorboardOut(Response):
    id: int
    uuid: str
    user: str
    name: str | None
    description: str | None
    project: str
    unique_name: str
    experiment_group: int
    last_status: str
    tags: list[str] | None
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    url: str


class PageOut(Response):
    count: int
    next: str | None
    previous: str | None
    results: list


class ExperimentStatusOut(Response):
    id: int
    uuid: str
    created_at: Timestamp
    message: str | None
    status: str
    experiment: int


class MetricOut(Response):
    id: int
    uuid: str
    experiment: int
    created_at: Timestamp
    values: dict


class MetricListOut(RootModel[list[MetricOut]]):
    """Rows stored from one batch, in the order they were sent."""


class RepoUploadOut(Response):
    id: int
    project: str
    user: str
    size: int
    created_at: Timestamp


# ---- results: objective, timeline, plots, outputs -----------------------------------------

class ObjectiveIn(Request):
    metric: str = Field(min_length=1, max_length=MAX_METRIC_NAME)
    optimization: Literal["maximize", "minimize"]


class ObjectiveOut(Response):
    metric: str | None
    optimization: str | None
    source: Literal["user", "spec"] | None


class TimelineItemOut(Response):
    """One timeline entry: a status row of the group or of an experiment, or a user action."""

    time: Timestamp
    kind: str
    source: Literal["group_status", "experiment_status", "action"]
    user: str | None
    message: str | None
    experiment: int | None
    status: str | None


class OutputFileOut(Response):
    """One file under an experiment's outputs folder."""

    path: str
    size: int


class OutputListOut(RootModel[list[OutputFileOut]]):
    """The files under an experiment's outputs folder."""


class PlotNamesOut(Response):
    plots: list[str]


# The plot bodies below are built as plain dicts by services/plots.py (the 10,000-experiment
# groups are served without a validation pass); they are declared here for the OpenAPI
# document, and the tests check real plot data against them. Keys a plot lacks are left out.
JSONValue = Any


class MetricPointOut(Response):
    experiment: int
    order: int
    value: float
    best: float


class AxisOut(Response):
    name: str
    kind: Literal["numeric", "categorical"]
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None


class LineOut(Response):
    experiment: int
    value: float
    params: dict[str, JSONValue]


class ScatterPointOut(Response):
    experiment: int
    x: float | str
    value: float


class ScatterParamOut(AxisOut):
    points: list[ScatterPointOut]


class RungOut(Response):
    iteration: int
    rung: int | None
    resource: JSONValue
    n_configs: int | None
    experiments: int
    finished: int
    promoted: int
    best: float | None


class BracketOut(Response):
    bracket: JSONValue
    rungs: list[RungOut]


class SuggestionOut(Response):
    experiment: int
    suggestion: int
    iteration: int
    kind: str | None
    value: float | None
    best: float | None


class FeatureOut(Response):
    name: str
    importance: float
    std: float


class PlotOut(Response):
    """One plot's data: the common keys, then those of its kind (absent when not applicable).

    metric is the group's objective unless asked for; with no objective, the first metric
    reported. optimization_source says where optimization (and so each "best") comes from: the
    user's objective, the spec, or "assumed" (maximize) when nothing says which way is better.
    note is a sentence for people: no objective set, or the metric shown has no known direction.
    The metric, parallel and scatter plots say how many experiments have a value of the metric
    (total) and whether their points are a sample of them (sampled: past 2,000, one point per
    equal stretch of the completion order, the last one always; order and best stay exact).
    """

    plot: Literal["metric", "parallel", "scatter", "hyperband", "bo", "importance"]
    metric: str | None
    optimization: Literal["maximize", "minimize"]
    metrics: list[str]
    applicable: bool
    message: str | None
    optimization_source: Literal["user", "spec", "assumed"]
    note: str | None
    total: int | None = None
    sampled: bool | None = None
    points: list[MetricPointOut] | list[SuggestionOut] | None = None
    axes: list[AxisOut] | None = None
    lines: list[LineOut] | None = None
    params: list[ScatterParamOut] | None = None
    resource: str | None = None
    brackets: list[BracketOut] | None = None
    features: list[FeatureOut] | None = None
    method: str | None = None
    fit_r2: float | None = None


# ---- errors and exports (declared for the OpenAPI document) -------------------------------


class RunnerHeartbeatOut(Response):
    stop: bool


class ErrorOut(Response):
    """Every error but field errors: 401, 403, 404, 405, 409, 413, 429, 5xx, and 400 too."""

    detail: str


class FieldErrorsOut(RootModel[dict[str, list[str]]]):
    """A 400 naming the fields at fault: {"field": ["message", ...]}."""


class ExportOut(RootModel[list[dict[str, Any]]]):
    """?format=json on an experiment list: every matching row, keyed by the export's header."""
