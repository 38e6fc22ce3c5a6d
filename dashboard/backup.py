"""Backup: every table as JSON lines, written and read back in one stable order.

The first line is a header: {"format": "dashboard-backup", "version": 1, "schema": <alembic
revision>, "tables": [...]}; then one {"table": ..., "row": {...}} line per row, tables in
foreign-key order and rows in primary-key order. Datetimes are ISO 8601 strings, JSON columns
their JSON value. Secrets are left out: password hashes (imported users get an unusable password
and must have it reset), API token hashes (imported tokens never match a key: make new ones) and
experiments' own credentials; signed-in sessions are not written at all (everyone signs in
again). Files on disk (outputs, uploaded code) are not part of it.
"""

import json
import secrets
from datetime import datetime

from sqlalchemy import DateTime, func, inspect, select, text

from dashboard.extensions import db

FORMAT = "dashboard-backup"
VERSION = 1
BATCH = 1000
# Columns never written; on import they get these values (called once per row).
SECRETS = {
    "users": {"password_hash": lambda: "!"},  # no "$": check_password_hash is always False
    "api_tokens": {"key_hash": lambda: "!" + secrets.token_hex(31)},  # never a SHA-256 hex
    "experiments": {"token_hash": lambda: None},
    # A restored job without its secret is one to start again (its process is gone anyway).
    "tensorboard_jobs": {"path_secret": lambda: None},
}
# Sessions are secrets of the running server: a restored database starts with nobody signed in.
# Counters the database keeps itself (migration 0009's triggers) are rebuilt by the import.
SKIPPED_TABLES = {
    "alembic_version",
    "login_sessions",
    "group_status_changes",
    "group_status_counts",
    "group_versions",
}


class BackupError(Exception):
    """A backup file or target database that cannot be used; the message says why."""


def tables():
    """The tables backed up, in foreign-key order (parents first)."""
    return [t for t in db.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _schema_revision(connection):
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to a backup")


def _line(data):
    return json.dumps(data, default=_json_default, separators=(",", ":")) + "\n"


def export(handle):
    """Write the database to a text handle; returns {table: rows written}."""
    counts = {}
    with db.engine.connect() as connection:
        handle.write(
            _line(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "schema": _schema_revision(connection),
                    "tables": [t.name for t in tables()],
                }
            )
        )
        for table in tables():
            left_out = SECRETS.get(table.name, {})
            columns = [c for c in table.columns if c.name not in left_out]
            stmt = select(*columns).order_by(*table.primary_key.columns)
            streaming = connection.execution_options(yield_per=BATCH)
            counts[table.name] = 0
            for row in streaming.execute(stmt):
                handle.write(_line({"table": table.name, "row": dict(row._mapping)}))
                counts[table.name] += 1
    return counts


def _read_header(handle):
    first = handle.readline()
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("This is not a dashboard backup (its first line is no backup header).")
    if header.get("version") != VERSION:
        raise BackupError(
            f"Backup format version {header.get('version')!r} is not supported "
            f"(this dashboard reads version {VERSION})."
        )
    return header


def _parse_row(table, row, line_number):
    if not isinstance(row, dict):
        raise BackupError(f"Line {line_number}: the row is not an object.")
    unknown = set(row) - set(table.columns.keys())
    if unknown:
        raise BackupError(
            f"Line {line_number}: {table.name} has no column {', '.join(sorted(unknown))}."
        )
    values = dict(row)
    for column in table.columns:
        value = values.get(column.name)
        if isinstance(value, str) and _is_datetime(column):
            try:
                values[column.name] = datetime.fromisoformat(value)
            except ValueError:
                raise BackupError(
                    f"Line {line_number}: {table.name}.{column.name} is not an "
                    f"ISO datetime: {value!r}."
                ) from None
    for name, fill in SECRETS.get(table.name, {}).items():
        values[name] = fill()
    return values


def _is_datetime(column):
    return isinstance(column.type, DateTime) or isinstance(
        getattr(column.type, "impl", None), DateTime
    )


def _is_empty(connection):
    for table in tables():
        if connection.execute(select(func.count()).select_from(table)).scalar():
            return False
    return True


def _reset_sequences(connection):
    """PostgreSQL: move each id sequence past the imported ids (SQLite needs nothing)."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not keys[0].autoincrement or keys[0].type.python_type is not int:
            continue
        name = keys[0].name
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE(MAX({name}), 1), MAX({name}) IS NOT NULL) FROM {table.name}"
            ),
            {"table": table.name, "column": name},
        )


def import_(handle):
    """Read a backup into an empty database, all or nothing; returns {table: rows read}."""
    header = _read_header(handle)
    known = {t.name: t for t in tables()}
    unknown = [name for name in header.get("tables", []) if name not in known]
    if unknown:
        raise BackupError(
            f"The backup has tables this dashboard does not know: {', '.join(unknown)}."
        )
    counts = dict.fromkeys(known, 0)
    with db.engine.begin() as connection:
        revision = _schema_revision(connection)
        if header.get("schema") != revision:
            raise BackupError(
                f"The backup's schema revision {header.get('schema')!r} differs "
                f"from this database's {revision!r}: upgrade first "
                f"(flask db upgrade) with the matching version."
            )
        if not _is_empty(connection):
            raise BackupError(
                "The database is not empty: import only into a new, empty "
                "database (after `flask --app wsgi db upgrade`)."
            )
        pending, current = [], None
        for line_number, line in enumerate(handle, start=2):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                table = known[record["table"]]
                row = record["row"]
            except (ValueError, KeyError, TypeError):
                raise BackupError(f"Line {line_number} is not a row of a known table.") from None
            if current is not None and table is not current and pending:
                connection.execute(current.insert(), pending)
                pending = []
            current = table
            pending.append(_parse_row(table, row, line_number))
            counts[table.name] += 1
            if len(pending) >= BATCH:
                connection.execute(current.insert(), pending)
                pending = []
        if pending:
            connection.execute(current.insert(), pending)
        _reset_sequences(connection)
    return counts
