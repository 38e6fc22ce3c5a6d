"""Structured request logs: one JSON line per request on stderr, with a request id.

Each line carries the method, path, status, duration in milliseconds, the user (when the request
was made by one) and the request id: the caller's X-Request-ID when it looks like an id (a load
balancer's), else a fresh one. The id is sent back in the X-Request-ID response header.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import g, request, request_started

LOGGER_NAME = "dashboard.requests"
HEADER = "X-Request-ID"
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

logger = logging.getLogger(LOGGER_NAME)


def start_request(sender=None, **extra):
    """Note when the request started and which id it carries (before any before_request)."""
    g.request_started = time.perf_counter()
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if VALID_ID.fullmatch(incoming) else uuid.uuid4().hex


def _user():
    # Only users the request already loaded: logging must not cost a query.
    for candidate in (g.get("actor"), g.get("_login_user")):
        name = getattr(candidate, "username", None)
        if name and getattr(candidate, "is_authenticated", False):
            return name
    return None


def finish_request(response):
    """Write the request's line and return the response with its X-Request-ID."""
    started = g.get("request_started")
    request_id = g.get("request_id") or uuid.uuid4().hex
    record = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": request_id,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "user": _user(),
    }
    logger.info(json.dumps(record))
    response.headers[HEADER] = request_id
    return response


def _configure_logger():
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def register(app):
    """Log every request when REQUEST_LOG is on (production's default)."""
    if not app.config.get("REQUEST_LOG"):
        return
    _configure_logger()
    # A signal, not before_request: a sign-in redirect returned by an earlier before_request
    # function would skip it.
    request_started.connect(start_request, app)
    app.after_request(finish_request)
