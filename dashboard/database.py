"""How requests use their PostgreSQL connections: checked without a round trip, and read by GET
and HEAD requests outside any transaction.

Checking. SQLAlchemy's pool_pre_ping sends a query before every checkout: a round trip per
request. A connection the server has closed (a restart, a killed backend, an idle timeout) has
something to read on its socket instead (the server's last message, or end of file), so a pooled
connection is pinged only then, or once it has sat unused DB_PING_IDLE_SECONDS; a dead one is
replaced before the request sees it, as pool_pre_ping did.

Reading. A GET or HEAD request's connection is in autocommit: no BEGIN, no ROLLBACK, and psycopg
keeps the statements it has prepared (a ROLLBACK makes it drop them all). PostgreSQL's READ
COMMITTED gives each statement its own snapshot inside a transaction too, so reads see what
they saw before; the few writes a GET makes are bookkeeping of one statement each (a token's or
a TensorBoard's last use, a sign-out). A streamed read (yield_per: an export) needs a server-side
cursor, which lives in a transaction: its connection leaves autocommit for the rest of the
request. The request's session ends with the request.
"""

import select
import time

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from dashboard.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD"})
CHECKED_IN = "dashboard_checked_in"
FLAG = "_reads_in_autocommit"


def _has_input(dbapi_connection):
    """Whether the server sent something nobody asked for (it does so when it hangs up)."""
    return bool(select.select([dbapi_connection.fileno()], [], [], 0)[0])


def connection_check(dialect, idle_seconds):
    """A pool checkout listener: ping only a connection that looks closed or sat idle long."""

    def check(dbapi_connection, record, proxy):
        checked_in = record.info.get(CHECKED_IN)
        if checked_in is None:
            return  # just opened
        if dbapi_connection.closed:
            raise DisconnectionError("the connection was closed")
        if _has_input(dbapi_connection) or time.monotonic() - checked_in > idle_seconds:
            try:
                dialect.do_ping(dbapi_connection)
            except dialect.loaded_dbapi.Error as exc:
                raise DisconnectionError(str(exc)) from exc

    return check


def _note_checkin(dbapi_connection, record):
    record.info[CHECKED_IN] = time.monotonic()


def _safe_request_reads_in_autocommit(connection):
    if has_request_context() and request.method in SAFE_METHODS:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        g.setdefault(FLAG, True)


def _streams_in_a_transaction(connection, statement, multiparams, params, options):
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.autocommit and (options.get("stream_results") or options.get("yield_per")):
        dbapi_connection.autocommit = False  # psycopg begins one before the cursor is declared


def end_reads(exc=None):
    """After a safe request: end its session's transaction (none was open on the server)."""
    if not g.pop(FLAG, False):
        return
    try:
        db.session.rollback() if exc is not None else db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


def register(app):
    """Install both on the app's PostgreSQL engine (other databases keep pool_pre_ping)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    if app.config.get("DB_CHECK_CONNECTIONS", True):
        event.listen(
            engine, "checkout", connection_check(engine.dialect, app.config["DB_PING_IDLE_SECONDS"])
        )
        event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "engine_connect", _safe_request_reads_in_autocommit)
    event.listen(engine, "before_execute", _streams_in_a_transaction)
    app.teardown_request(end_reads)
