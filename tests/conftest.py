"""Fixtures: one database per run (migrated once), emptied after each test."""

import os

import pytest
from flask import g, request_started
from sqlalchemy import event, select

# First: it sets the instance folder the app reads when it is imported.
from tests.support.environment import CLIENT_VENV, DATABASE_URL, TMP  # isort: skip

from config import TestingConfig
from dashboard import create_app
from dashboard.extensions import db
from tests.support.processes import LiveServer, WorkerProcess, stop_and_show

# The Celery cluster's fixtures (redis_url, celery_settings, scheduler, cluster), shared by the
# distributed runner's test modules.
pytest_plugins = ["tests.support.celery_cluster"]


class _Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = DATABASE_URL
    OUTPUTS_ROOT = str(TMP / "outputs")
    SECRET_KEY = "test-secret"


@pytest.fixture(scope="session")
def _schema():
    """Build the schema once with the real migrations."""
    from flask_migrate import downgrade, upgrade

    app = create_app(_Config)
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()


def _stop_tensorboards():
    from dashboard.models import TensorboardJob
    from dashboard.processes.control import stop_process

    pids = db.session.scalars(select(TensorboardJob.pid).where(TensorboardJob.pid.is_not(None)))
    for pid in pids.all():
        stop_process(pid)


def _empty_tables():
    db.session.rollback()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


def _forget_user(sender, **extra):
    g.pop("_login_user", None)
    g.pop("csrf_token", None)  # Flask-WTF's token of the last request's session (another client's)


@pytest.fixture(scope="session")
def _built_app(_schema):
    """One app for the whole run (building its URL map costs ~80 ms) and its pristine config."""
    app = create_app(_Config)
    # The test's app context spans its requests, so `g` would carry the signed-in user from one
    # request to the next; a real server starts every request without one.
    request_started.connect(_forget_user, app)
    return app, dict(app.config)


@pytest.fixture
def app(_built_app, tmp_path):
    """The app as built, its config and rate-limit counts reset; every row is deleted afterwards.

    Outputs go to the test's own folder: ids restart after the tables are emptied, so a shared
    folder would show one test's files to the next.
    """
    from dashboard.extensions import limiter

    app, config = _built_app
    app.config.clear()
    app.config.update(config)
    app.config["OUTPUTS_ROOT"] = str(tmp_path / "outputs")
    limiter.reset()
    with app.app_context():
        yield app
        _stop_tensorboards()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def fresh_app(app):
    """An app of its own, for a test that changes how the app is set up (the shared `app` has
    served requests, so Flask refuses new routes or hooks on it)."""
    return create_app(_Config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def group(app):
    """alice's public project `demo` with one group of the reference polyaxonfile."""
    from tests.factories import alice_group

    return alice_group()[2]


@pytest.fixture
def as_alice(client, group):
    """The test's client is signed in as alice, who owns `group`."""
    from tests.support.web import sign_in

    sign_in(client, "alice")


ROLE_USERS = {"admin": "ada", "member": "mia", "viewer": "victor", "outsider": "victor"}


@pytest.fixture
def sign_in_as(client, group):
    """sign_in_as(role) signs the test's client in as a new user who is `role` of the project of
    `group` (admin ada, member mia, viewer victor) or of no project (outsider victor, who
    visits the public project); returns the user."""
    from dashboard.models import Project
    from tests.support.web import signed_in_as

    def sign(role):
        project = db.session.get(Project, group.project_id)
        return signed_in_as(client, ROLE_USERS[role], project, None if role == "outsider" else role)

    return sign


@pytest.fixture
def count_queries(app):
    """A context manager counting the SQL statements run inside it."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def project_with_code(app, tmp_path):
    """alice/demo with train.py (tests/support/runs.py) uploaded as its code."""
    from tests.factories import alice_project_with_code
    from tests.support.runs import TRAIN

    return alice_project_with_code(app.config, {"train.py": TRAIN})


@pytest.fixture
def workers(live_server, tmp_path):
    """Starts workers; their logs are printed at the end (pytest shows them when a test fails)."""
    started = []

    def start(**settings):
        worker = WorkerProcess(live_server, tmp_path / f"worker-{len(started)}.log", **settings)
        started.append(worker)
        return worker

    yield start
    stop_and_show(started)


@pytest.fixture
def live_server(app, tmp_path):
    """A real server process over the test database, stopped (by PID) afterwards."""
    from dashboard.processes.tensorboard import free_port

    env = dict(os.environ)
    env.update(
        DATABASE_URL=DATABASE_URL,
        FLASK_CONFIG="testing",
        SECRET_KEY="test-secret",
        DASHBOARD_INSTANCE=str(tmp_path / "instance"),
        OUTPUTS_ROOT=str(tmp_path / "outputs"),
        LOGIN_RATE_LIMIT="1000 per minute",
        LOGIN_ADDRESS_RATE_LIMIT="1000 per minute",
        # Experiments run sandboxed: they write what tests read back into tmp_path/records
        # (the one folder of the test they may write besides their outputs) and may run the
        # published client's virtualenv.
        SANDBOX_WRITABLE_PATHS=str(_records(tmp_path)),
        SANDBOX_READ_ONLY_PATHS=str(CLIENT_VENV),
        # Experiments are not niced here: on a CPU shared with another run of the suite they
        # would wait for its servers (tests/test_limits.py checks the niceness).
        EXPERIMENT_NICE="0",
    )
    server = LiveServer(env, free_port(), tmp_path / "live-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _records(tmp_path):
    """tmp_path/records, writable by the experiments' sandbox uid."""
    records = tmp_path / "records"
    records.mkdir(exist_ok=True)
    records.chmod(0o777)
    return records


@pytest.fixture
def restored(app, tmp_path):
    """An empty, upgraded second database and an app over it (for export/import round trips)."""
    from flask_migrate import upgrade

    from tests.support.backup import SecondDatabase

    database = SecondDatabase(tmp_path)
    try:

        class RestoredConfig(TestingConfig):
            SQLALCHEMY_DATABASE_URI = database.url
            SECRET_KEY = "test-secret"

        second = create_app(RestoredConfig)
        second.config["OUTPUTS_ROOT"] = app.config["OUTPUTS_ROOT"]
        second.database_url = database.url
        with second.app_context():
            upgrade()
        yield second
        with second.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        database.drop()


@pytest.fixture(scope="session")
def client_venv():
    """The virtualenv holding polyaxon-client/-cli 0.6.1 (built by scripts/client-venv.sh)."""
    if not (CLIENT_VENV / "bin" / "python").exists():
        pytest.fail(
            f"the client virtualenv is missing at {CLIENT_VENV}: run scripts/client-venv.sh"
        )
    return CLIENT_VENV
