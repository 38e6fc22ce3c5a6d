"""A group: creation, update, its row and detail, statuses, bookmarks, TensorBoard, objective,
timeline."""

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from dashboard.api.schemas.base import (
    SLUG_SCHEMA,
    Request,
    Response,
    Timestamp,
    check_slug,
    check_tags,
)
from dashboard.services.group.groups import MAX_CONCURRENCY, MAX_DESCRIPTION, MIN_CONCURRENCY
from dashboard.services.group.objective import MAX_METRIC_NAME

# ---- requests ------------------------------------------------------------------------------


class GroupCreateIn(Request):
    content: str = Field(min_length=1)
    name: str | None = Field(default=None, json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: list[str] | None = None

    _slug = field_validator("name")(check_slug)
    _tags = field_validator("tags")(check_tags)


class GroupCloneIn(Request):
    # A new route: a misspelt key would clone the original unchanged, so it is refused.
    model_config = ConfigDict(strict=True, extra="forbid")

    content: str | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)

    _slug = field_validator("name")(check_slug)


class GroupUpdateIn(Request):
    name: str | None = Field(default=None, json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: list[str] | None = None
    merge: bool = False
    concurrency: int | None = Field(default=None, ge=MIN_CONCURRENCY, le=MAX_CONCURRENCY)

    _slug = field_validator("name")(check_slug)
    _tags = field_validator("tags")(check_tags)


class StopIn(Request):
    pending: bool = False


class RetryIn(Request):
    statuses: list[Literal["succeeded", "failed", "stopped"]] = Field(
        default=["failed", "stopped"], min_length=1, max_length=3
    )


class ExtendIn(Request):
    # The cap left for the group is checked by the service (MAX_EXPERIMENTS_PER_GROUP).
    n_experiments: int = Field(ge=1, le=1_000_000)


class StatusIn(Request):
    status: str
    message: str | None = Field(default=None, max_length=10000)


class TensorboardStartIn(Request):
    content: Any = None
    is_managed: bool | None = None


class ObjectiveIn(Request):
    metric: str = Field(min_length=1, max_length=MAX_METRIC_NAME)
    optimization: Literal["maximize", "minimize"]


# ---- responses -----------------------------------------------------------------------------


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
    cloned_from: int | None


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


class ExperimentIdsOut(Response):
    experiments: list[int]


class BookmarkOut(Response):
    content_object: GroupRowOut


class GroupStatusOut(Response):
    id: int
    uuid: str
    created_at: Timestamp
    message: str | None
    status: str
    experiment_group: int


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
