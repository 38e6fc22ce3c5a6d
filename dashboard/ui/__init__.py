"""The HTML dashboard: server-rendered pages and htmx action endpoints."""

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from dashboard.errors import html_error

ui = Blueprint("ui", __name__)

# Pages anyone may open without signing in.
PUBLIC_ENDPOINTS = {"ui.login", "static"}


def is_htmx():
    """Whether the request was sent by htmx (it wants a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


@ui.before_app_request
def require_login():
    """Send anonymous visitors of UI pages to the login page (htmx: 401 + HX-Redirect)."""
    if request.blueprint != "ui" or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.path.startswith("/api/"):
        return None  # an unknown API path: the JSON 404, never the login page
    if current_user.is_authenticated:
        return None
    login_url = url_for("ui.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        response = current_app.response_class("", status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


@ui.app_errorhandler(CSRFError)
def csrf_failed(exc):
    """A form or htmx post without a valid CSRF token; an expired session signs in again."""
    if is_htmx() and not current_user.is_authenticated:
        response = current_app.response_class("", status=401)
        response.headers["HX-Redirect"] = url_for("ui.login")
        return response
    return html_error(400, exc.description)


def slash_twin(rule):
    """The same rule with its trailing slash added or removed ("/" stays "/")."""
    if rule == "/":
        return rule
    return rule.rstrip("/") if rule.endswith("/") else rule + "/"


def route(rule, methods=("GET",)):
    """Register a UI view at rule (the form url_for builds) and at its slash twin."""

    def decorator(view):
        for variant in dict.fromkeys([rule, slash_twin(rule)]):
            ui.add_url_rule(
                variant, view.__name__, view, methods=list(methods), strict_slashes=True
            )
        return view

    return decorator


from dashboard.ui import (  # noqa: E402,F401  (views register themselves on the blueprint)
    auth,
    compare,
    confirmation,
    experiments,
    group_actions,
    group_control,
    groups,
    home,
    notes,
    projects,
    results,
    selections,
    settings,
    tensorboard,
    timeline,
    tokens,
)
