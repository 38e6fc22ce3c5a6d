"""The experiment-group dashboard: create_app builds the Flask application."""

import os

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import BASE_DIR, CONFIGS, INSTANCE_DIR

MIGRATIONS_DIR = BASE_DIR / "migrations"


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
    # Keep key order as built (the group's hptuning keeps the polyaxonfile's order).
    app.json.sort_keys = False
    _init_extensions(app)
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


def _init_extensions(app):
    from dashboard.extensions import csrf, db, limiter, login_manager, migrate
    from dashboard.models import users

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.user_loader(users.load_user)
    csrf.init_app(app)
    limiter.init_app(app)


def _register_blueprints(app):
    from dashboard import errors
    from dashboard.api import api
    from dashboard.ui import ui

    app.register_blueprint(api)
    app.register_blueprint(ui)
    errors.register(app)


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
