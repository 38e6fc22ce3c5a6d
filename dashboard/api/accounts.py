"""Client bootstrap routes: login token, current user, CLI versions, log handler."""

from flask import current_app, g, request

from dashboard import login_limit
from dashboard.api import route
from dashboard.api.helpers import dump, parse
from dashboard.api.schemas.accounts import LogHandlerOut, LoginIn, TokenOut, UserOut, VersionsOut
from dashboard.errors import ValidationError
from dashboard.extensions import limiter
from dashboard.services.user import users

CLI_VERSIONS = {"latest_version": "0.6.1", "min_version": "0.6.0"}


def _token_limit():
    return current_app.config["TOKEN_RATE_LIMIT"]


def _login_username():
    """Whose new tokens a login request counts against (form or JSON body)."""
    body = request.form or request.get_json(silent=True)
    name = body.get("username") if hasattr(body, "get") else None
    return f"tokens:{name if isinstance(name, str) else ''}"


@route(
    "/users/token/",
    ["POST"],
    out=TokenOut,
    body=LoginIn,
    forms=True,
    public=True,
    errors=(429,),
)
@limiter.limit(
    _token_limit, key_func=_login_username, deduct_when=lambda response: response.status_code == 200
)
def login():
    """Exchange a username and password (form or JSON) for a new token."""
    data = (
        request.form.to_dict()
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
        else None
    )
    body = parse(LoginIn, data)
    login_limit.check(body.username)
    try:
        key = users.login_token(body.username, body.password)
    except ValidationError:
        login_limit.failed(body.username)
        raise
    return dump(TokenOut(token=key))


@route("/users/", ["GET"], out=UserOut)
def current_user():
    """The authenticated user."""
    user = g.actor
    return dump(UserOut(username=user.username, email=user.email, is_superuser=user.is_staff))


@route("/versions/cli/", ["GET"], out=VersionsOut, public=True)
def cli_versions():
    """The CLI versions this server works with."""
    return dump(VersionsOut(**CLI_VERSIONS))


@route("/log_handler/", ["GET"], out=LogHandlerOut, public=True)
def log_handler():
    """No error reporting DSN: the CLI asks for it after login."""
    return dump(LogHandlerOut(dsn=None, environment="production", tags={}))
