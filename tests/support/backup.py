"""What the export/import tests restore into: a second, empty database; and the app's CLI run
in-process."""

import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dashboard.extensions import db


class SecondDatabase:
    """A second, empty database: a SQLite file, or a PostgreSQL database in the same cluster."""

    def __init__(self, tmp_path):
        url = make_url(first_database_url())
        self.admin = None
        if url.get_backend_name() == "sqlite":
            self.url = f"sqlite:///{tmp_path / 'restored.db'}"
        else:
            self.name = f"restored_{uuid.uuid4().hex[:12]}"
            self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = url.set(database=self.name).render_as_string(hide_password=False)

    def drop(self):
        if self.admin is not None:
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


def first_database_url():
    return db.engine.url.render_as_string(hide_password=False)


def run_cli(flask_app, *args, stdin=None):
    """A command run in-process through the app's own CLI (same code as `flask --app wsgi`)."""
    with flask_app.app_context():
        return flask_app.test_cli_runner().invoke(args=list(args), input=stdin)
