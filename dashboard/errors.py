"""Domain errors, and the one place that renders them (JSON under /api/)."""

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """Base of the errors services raise; carries an HTTP status and a message."""

    status_code = 400

    def __init__(self, detail=None):
        super().__init__(detail or self.default_detail)
        self.detail = detail or self.default_detail

    default_detail = "Bad request."

    def body(self):
        return {"detail": self.detail}


class NotAuthenticated(DomainError):
    status_code = 401
    default_detail = "Authentication credentials were not provided."


class InvalidToken(NotAuthenticated):
    default_detail = "Invalid token."


class Forbidden(DomainError):
    status_code = 403
    default_detail = "You do not have permission to perform this action."


class NotFound(DomainError):
    status_code = 404
    default_detail = "Not found."


class Conflict(DomainError):
    status_code = 409
    default_detail = "Conflict."


class TooLarge(DomainError):
    status_code = 413
    default_detail = "Request body too large."


class TooManyRequests(DomainError):
    status_code = 429
    default_detail = "Too many requests. Try again later."


class Unavailable(DomainError):
    status_code = 503
    default_detail = "The service is not available right now."


class ValidationError(DomainError):
    """A 400: either a detail message or field errors {"field": ["message", ...]}."""

    status_code = 400

    def __init__(self, detail=None, *, fields=None):
        super().__init__(detail or "Invalid input.")
        self.fields = fields

    def body(self):
        return self.fields if self.fields else {"detail": self.detail}


def public_reason(exc):
    """What went wrong, fit to show users: an OSError's reason without the file it names (a
    path on the server), other errors as they are."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def field_error(field, message):
    """A ValidationError for one field."""
    return ValidationError(message, fields={field: [message]})


def _wants_json():
    return request.path.startswith("/api/")


def json_error(status_code, body, headers=None):
    """A JSON error response."""
    response = jsonify(body)
    response.status_code = status_code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _http_detail(exc):
    if exc.code == 405:
        return f'Method "{request.method}" not allowed.'
    if exc.code == 404:
        return "Not found."
    if exc.code == 413:
        return "Request body too large."
    if exc.code == 429:
        return f"Too many requests (limit: {exc.description}). Try again later."
    return exc.description or exc.name


TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Server error",
    503: "Not available",
}


def html_error(status_code, message):
    """An error for the HTML UI: an inline message for htmx, else a full error page."""
    if request.headers.get("HX-Request") == "true":
        body = render_template("_error_inline.html", message=message)
        return body, status_code, {"HX-Retarget": "#flash", "HX-Reswap": "outerHTML"}
    title = TITLES.get(status_code, "Error")
    return render_template(
        "errors/error.html", code=status_code, title=title, message=message
    ), status_code


def register(app):
    """Install the error handlers."""

    @app.errorhandler(DomainError)
    def handle_domain_error(exc):
        headers = {"WWW-Authenticate": "Token"} if exc.status_code == 401 else None
        if _wants_json():
            return json_error(exc.status_code, exc.body(), headers)
        return html_error(exc.status_code, exc.detail)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc):
        if not _wants_json():
            if exc.code in (301, 302, 303, 307, 308) or exc.code < 400:
                return exc
            return html_error(exc.code, _http_detail(exc))
        response = json_error(exc.code, {"detail": _http_detail(exc)})
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc):
        if isinstance(exc, HTTPException):
            return handle_http_error(exc)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return json_error(500, {"detail": "A server error occurred."})
        return html_error(500, "A server error occurred. It has been logged.")
