"""A project's webhooks and the attempts to deliver to them."""

from typing import Literal

from pydantic import Field, RootModel, field_validator

from dashboard.api.schemas.base import Request, Response, Timestamp
from dashboard.services.project import webhooks

Event = Literal[webhooks.EVENTS]


def _check_url(value):
    problem = webhooks.url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class WebhookIn(Request):
    url: str = Field(max_length=webhooks.MAX_URL, json_schema_extra={"format": "uri"})
    events: list[Event] = Field(min_length=1)
    secret: str | None = Field(
        default=None,
        max_length=webhooks.MAX_SECRET,
        description=(
            "Signs each body: X-Dashboard-Signature: sha256=<hex HMAC-SHA256>. Never shown again."
        ),
    )

    _url = field_validator("url")(_check_url)


class WebhookOut(Response):
    id: int
    url: str
    events: list[str]
    created_at: Timestamp


class WebhookListOut(RootModel[list[WebhookOut]]):
    """The project's webhooks, oldest first."""


class WebhookAttemptOut(Response):
    id: int
    delivery: int
    event: str
    group: int
    attempt: int
    status_code: int | None
    error: str | None
    created_at: Timestamp
    delivery_status: Literal["pending", "delivered", "failed"]


class WebhookAttemptListOut(RootModel[list[WebhookAttemptOut]]):
    """The webhook's last 50 attempts, newest first."""
