"""What the API's shapes share: the request and response bases, timestamps, the name and
tag rules (the service's), the page and the error bodies."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, RootModel

from dashboard.names import MAX_NAME
from dashboard.services.group import groups

# ISO 8601 with microseconds and an explicit offset, e.g. 2026-11-26T22:37:47.820000+00:00.
Timestamp = Annotated[
    datetime, PlainSerializer(lambda d: d.isoformat(timespec="microseconds"), return_type=str)
]


# The slug rule as the OpenAPI document states it for names (check_slug enforces it).
SLUG_SCHEMA = {"pattern": rf"^[A-Za-z0-9_-]{{1,{MAX_NAME}}}$"}


def _rule(problem_of):
    """A field check raising what a service rule finds wrong (as pydantic's field error)."""

    def check(value):
        problem = problem_of(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    return check


# Names are slugs of at most 128 characters; tags at most 50, each of 1 to 64 characters.
check_slug = _rule(groups.name_problem)
check_tags = _rule(groups.tags_problem)


class Request(BaseModel):
    """Request bodies: strict types; unknown and read-only fields are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(Response):
    count: int
    next: str | None
    previous: str | None
    results: list


class ErrorOut(Response):
    """Every error but field errors: 401, 403, 404, 405, 409, 413, 429, 5xx, and 400 too."""

    detail: str


class FieldErrorsOut(RootModel[dict[str, list[str]]]):
    """A 400 naming the fields at fault: {"field": ["message", ...]}."""
