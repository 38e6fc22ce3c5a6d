"""Logging in and what the client asks first: the token, the user, the CLI versions."""

from pydantic import Field

from dashboard.api.schemas.base import Request, Response


class LoginIn(Request):
    username: str = Field(max_length=150)
    password: str = Field(max_length=1024)


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
