"""The JSON API under /api/v1: authentication, then thin views over the services."""

from flask import Blueprint, current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError as CSRFValidationError

from dashboard.api.operations import Operation, openapi_path
from dashboard.errors import Forbidden, InvalidToken, NotAuthenticated
from dashboard.extensions import csrf
from dashboard.services.experiment import credentials

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)


@api.record_once
def _provide_group_json(state):
    """Webhook deliveries carry the group as GET group answers it: the services, which build
    them, may not import the API, so the app holds the serialiser for them."""
    from dashboard.api.serialize import group_detail
    from dashboard.services.project.webhook_delivery import GROUP_JSON

    state.app.extensions[GROUP_JSON] = lambda detail: group_detail(detail).model_dump(mode="json")


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Built by route() from each view's Operation: every operation by (documented path, method),
# the endpoints that answer without credentials (the CLI asks them before it has a token),
# those taking bodies larger than the JSON limit, and the only ones an experiment's own
# credentials may call (for that experiment only).
ROUTES = {}
PUBLIC_ENDPOINTS = set()
LARGE_BODY_ENDPOINTS = set()
EXPERIMENT_ENDPOINTS = set()


def route(rule, methods, *, out, **operation):
    """Register a view at rule with and without its trailing slash (no redirect either way), as
    the Operation its keywords declare (`out` always: None when the answer has no body)."""
    op = Operation(out=out, **operation)

    def decorator(view):
        endpoint = f"{api.name}.{view.__name__}"
        for variant in (rule, rule.rstrip("/")):
            api.add_url_rule(variant, view.__name__, view, methods=methods, strict_slashes=True)
        for method in methods:
            key = (openapi_path(rule), method)
            if key in ROUTES:
                raise ValueError(f"{method} {rule} is declared twice")
            ROUTES[key] = op
        for declared, endpoints in (
            (op.public, PUBLIC_ENDPOINTS),
            (op.upload, LARGE_BODY_ENDPOINTS),
            (op.experiment_key, EXPERIMENT_ENDPOINTS),
        ):
            if declared:
                endpoints.add(endpoint)
        return view

    return decorator


@api.before_request
def authenticate():
    """Set g.actor from a token header or the session cookie (with CSRF on unsafe methods).

    An experiment's own key sets g.experiment instead (g.actor stays None) and opens only
    EXPERIMENT_ENDPOINTS (and the public ones).
    """
    if request.endpoint not in LARGE_BODY_ENDPOINTS:
        request.max_content_length = current_app.config["API_MAX_BODY"]
    g.actor = None
    g.experiment = None
    g.held_project = None
    header = request.headers.get("Authorization", "").strip()
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not key.strip():
            raise InvalidToken()
        # On a project's route the token and the project are read in one query.
        args = request.view_args or {}
        names = (args["username"], args["project_name"]) if "project_name" in args else None
        g.actor, g.experiment, g.held_project = credentials.caller_for_key(
            key.strip(), project=names
        )
        if g.experiment is not None and request.endpoint not in (
            EXPERIMENT_ENDPOINTS | PUBLIC_ENDPOINTS
        ):
            raise Forbidden()
    elif current_user.is_authenticated:
        if request.method in UNSAFE_METHODS:
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except (CSRFValidationError, CSRFError) as exc:
                raise Forbidden(f"CSRF Failed: {exc}") from None
        g.actor = current_user._get_current_object()
    if g.actor is None and g.experiment is None and request.endpoint not in PUBLIC_ENDPOINTS:
        raise NotAuthenticated()


from dashboard.api import (  # noqa: E402,F401  (views register themselves on the blueprint)
    accounts,
    experiment_routes,
    experiments,
    group_actions,
    group_control,
    groups,
    notes,
    openapi,
    plots,
    projects,
    results,
    runner_routes,
    tensorboards,
    timeline,
    uploads,
    webhooks,
)
