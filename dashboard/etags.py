"""Conditional GETs: an answer the caller holds already is a 304 Not Modified, built from nothing.

A view reads a stamp (a value a service keeps changing with everything the answer shows: for a
group, services.group.groups.read_state), after the access checks, so a 304 goes only to whoever may
read the answer. Its ETag is a weak one (the same data, not necessarily the same bytes: times
"so far" are rendered afresh and tick in the browser) hashing that stamp with what else picks
the answer: the endpoint (the format), its query string, the htmx headers that change it, the
CSRF token its forms carry, and a digest of the code and templates that build it (a deploy
changes every ETag). Only 2xx answers get one; browsers revalidate every time (no-cache).
"""

import hashlib
from datetime import datetime
from functools import cache
from pathlib import Path

from flask import current_app, request, session

CACHE_CONTROL = "private, no-cache"
# Request headers that change a fragment's answer (its status, or its HX-Push-Url).
VARYING_HEADERS = ("HX-Request", "HX-Trigger")
ROOT = Path(__file__).resolve().parent.parent


@cache
def code_digest():
    """A digest of the app's Python files and templates (read once per process)."""
    digest = hashlib.sha256()
    for folder, pattern in ((ROOT / "dashboard", "*.py"), (ROOT / "templates", "*.html")):
        for path in sorted(folder.rglob(pattern)):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _plain(value):
    # A moment as a number: the same instant reads back with another tzinfo (and repr).
    return value.timestamp() if isinstance(value, datetime) else value


def etag_for(stamp):
    """The ETag value (unquoted, weak) of an answer built from this stamp for this request."""
    parts = (
        code_digest(),
        request.endpoint,
        request.query_string,
        tuple(request.headers.get(name) for name in VARYING_HEADERS),
        session.get("csrf_token") if request.blueprint == "ui" else None,
        tuple(_plain(value) for value in stamp),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def answer(stamp, build):
    """304 when If-None-Match names this stamp's ETag; else build()'s answer, with the ETag."""
    tag = etag_for(stamp)
    if request.if_none_match.contains_weak(tag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.make_response(build())
        if not 200 <= response.status_code < 300:
            return response
    response.set_etag(tag, weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
