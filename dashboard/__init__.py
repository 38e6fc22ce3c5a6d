"""The experiment-group dashboard: create_app builds the Flask application."""

import os

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from config import BASE_DIR, CONFIGS, INSTANCE_DIR
from dashboard.ids import MAX_ID

MIGRATIONS_DIR = BASE_DIR / "migrations"


class DatabaseIntConverter(IntegerConverter):
    """<int:...> path ids past MAX_ID become 0, which names no row either (ids start at 1):
    a 404 from the lookup, not an out-of-range error from the database."""

    def to_python(self, value):
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


def create_app(config=None):
    """Build the app from a config class or name (default: FLASK_CONFIG or development)."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="../static",
    )
    _load_config(app, config)
    # Every route answers with and without its trailing slash, without a redirect.
    app.url_map.strict_slashes = False
    app.url_map.converters["int"] = DatabaseIntConverter
    # Keep key order as built (the group's hptuning keeps the polyaxonfile's order).
    app.json.sort_keys = False
    _init_extensions(app)
    _register_operations(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _load_config(app, config):
    if config is None or isinstance(config, str):
        config = CONFIGS[config or os.environ.get("FLASK_CONFIG", "development")]
    app.config.from_object(config)
    missing = [name for name in app.config.get("REQUIRED_SETTINGS", ()) if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} must be set in the environment for this config")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        from dashboard.secret_key import instance_secret_key

        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)


def _init_extensions(app):
    from dashboard import database, login
    from dashboard.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    database.register(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.user_loader(login.load_user)
    csrf.init_app(app)
    limiter.init_app(app)


def _register_blueprints(app):
    from dashboard import errors, security, text_input
    from dashboard.api import api
    from dashboard.api.openapi import docs
    from dashboard.ui import ui

    app.register_blueprint(api)
    app.register_blueprint(docs)
    app.register_blueprint(ui)
    errors.register(app)
    security.register(app)
    text_input.register(app)


def _register_operations(app):
    # Before the blueprints: the request log times every request, sign-in redirects included.
    from dashboard import health, request_log

    request_log.register(app)
    health.register(app)


def _register_cli(app):
    from dashboard.cli import register

    register(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Open SQLite with WAL, a 5 s busy timeout and foreign keys on."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@event.listens_for(Session, "do_orm_execute")
def _sqlite_lock_for_update(state):
    """SQLite ignores FOR UPDATE: take its write lock instead (BEGIN IMMEDIATE), so a
    read-check-write under with_for_update() runs alone, as PostgreSQL's row lock makes it."""
    if not state.is_select or getattr(state.statement, "_for_update_arg", None) is None:
        return
    connection = state.session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:  # in a transaction, an earlier write holds the lock already
            raw.execute("BEGIN IMMEDIATE")
