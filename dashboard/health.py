"""GET /healthz for load balancers: 200 when the database answers, 503 with the reason if not."""

import time

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dashboard.extensions import csrf, db

health = Blueprint("health", __name__)
csrf.exempt(health)


def database_status():
    """(True, details) when a round trip to the database succeeds, else (False, reason)."""
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return False, f"The database is unreachable: {reason}"
    finally:
        # Hand the connection back (or drop a broken one): the check holds nothing.
        db.session.remove()
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    return True, {"database": db.engine.dialect.name, "database_ms": elapsed}


@health.get("/healthz")
def healthz():
    """Whether this server can serve: 200 {"status": "ok", ...} or 503 {"status", "detail"}."""
    ok, details = database_status()
    if ok:
        return jsonify(status="ok", **details)
    response = jsonify(status="unavailable", detail=details)
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


def register(app):
    """Serve /healthz (no sign-in, no CSRF, nothing written)."""
    app.register_blueprint(health)
