"""An experiment: its update, statuses, the runner's reports, its row, outputs and exports."""

from typing import Any, Literal

from pydantic import Field, RootModel, field_validator

from dashboard.api.schemas.base import (
    SLUG_SCHEMA,
    Request,
    Response,
    Timestamp,
    check_slug,
    check_tags,
)
from dashboard.services.experiment.restarts import MAX_CONTENT_BYTES
from dashboard.services.group.groups import MAX_DESCRIPTION

# ---- requests ------------------------------------------------------------------------------


class ExperimentUpdateIn(Request):
    name: str | None = Field(default=None, json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: list[str] | None = None
    merge: bool = False

    _slug = field_validator("name")(check_slug)
    _tags = field_validator("tags")(check_tags)


class ExperimentStatusIn(Request):
    status: str
    message: str | None = Field(default=None, max_length=10000)
    traceback: str | None = Field(default=None, max_length=100000)


class ExperimentCloneIn(Request):
    """What polyaxon-client 0.6.1 sends to restart, resume or copy an experiment: `content`, a
    polyaxonfile (or a Python dict's repr) whose params/declarations override the experiment's,
    and `update_code` (true: run the project's latest upload instead of the original's)."""

    content: str | None = Field(default=None, max_length=MAX_CONTENT_BYTES)
    update_code: bool = False


class RunnerReportIn(Request):
    """A Celery worker's start or heartbeat: its node name, host and the experiment's pid."""

    worker: str = Field(min_length=1, max_length=255)
    host: str = Field(min_length=1, max_length=255)
    pid: int | None = Field(default=None, ge=1)


# ---- responses -----------------------------------------------------------------------------


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
    original_experiment: int | None
    cloning_strategy: Literal["restart", "resume", "copy"] | None
    is_clone: bool


class ExperimentStatusOut(Response):
    id: int
    uuid: str
    created_at: Timestamp
    message: str | None
    status: str
    experiment: int


class RunnerHeartbeatOut(Response):
    stop: bool


class OutputFileOut(Response):
    """One file under an experiment's outputs folder."""

    path: str
    size: int


class OutputListOut(RootModel[list[OutputFileOut]]):
    """The files under an experiment's outputs folder."""


class ExportOut(RootModel[list[dict[str, Any]]]):
    """?format=json on an experiment list: every matching row, keyed by the export's header."""
