"""A project, its creation and its code uploads."""

from pydantic import Field, field_validator

from dashboard.api.schemas.base import (
    SLUG_SCHEMA,
    Request,
    Response,
    Timestamp,
    check_slug,
    check_tags,
)
from dashboard.services.group.groups import MAX_DESCRIPTION


class ProjectCreateIn(Request):
    name: str = Field(json_schema_extra=SLUG_SCHEMA)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    is_public: bool = True
    tags: list[str] | None = None

    _slug = field_validator("name")(check_slug)
    _tags = field_validator("tags")(check_tags)


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


class RepoUploadOut(Response):
    id: int
    project: str
    user: str
    size: int
    created_at: Timestamp
