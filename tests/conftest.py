"""Fixtures: one database per run (migrated once), emptied after each test."""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from flask import g, request_started
from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parent.parent
CLIENT_VENV = Path(os.environ.get("CLIENT_VENV", ROOT / ".venv-client"))
_TMP = Path(tempfile.mkdtemp(prefix="dashboard-tests-"))
# Keep the tests' instance folder (demo password, SQLite file) out of the working tree.
os.environ["DASHBOARD_INSTANCE"] = str(_TMP / "instance")

from config import TestingConfig  # noqa: E402
from dashboard import create_app  # noqa: E402
from dashboard.extensions import db  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"


class _Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = DATABASE_URL
    OUTPUTS_ROOT = str(_TMP / "outputs")
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
    from dashboard import tensorboard_process
    from dashboard.models import TensorboardJob

    pids = db.session.scalars(select(TensorboardJob.pid).where(TensorboardJob.pid.is_not(None)))
    for pid in pids.all():
        tensorboard_process.stop_process(pid)


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


def _wait_for_http(url, process, timeout):
    """Poll url until it answers 200, the process dies, or the deadline passes."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


class LiveServer:
    """The dashboard served by `flask run` in a subprocess on a free loopback port."""

    def __init__(self, env, port, log_path):
        self.host = "127.0.0.1"
        self.port = port
        self.url = f"http://{self.host}:{port}"
        self.env = env
        self.process = None
        # Its request log goes to a file: an unread pipe would fill and stall the server.
        self.log_path = log_path

    def tail(self, lines=60):
        """The last lines the server wrote (for failure reports)."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cli(self, *args, check=True):
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=60, check=check,
        )

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", self.host,
                 "--port", str(self.port), "--with-threads"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not _wait_for_http(f"{self.url}/api/v1/versions/cli", self.process, timeout=30):
            self.stop()
            raise RuntimeError(f"the live server did not start:\n{self.tail()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class WorkerProcess:
    """`flask --app wsgi worker` against the live server's database, stopped by PID."""

    def __init__(self, live_server, log_path, **settings):
        self.log_path = log_path
        self.name = log_path.name
        env = dict(live_server.env)
        env.update(DASHBOARD_URL=live_server.url, WORKER_POLL_SECONDS="0.2",
                   WORKER_TIMEOUT_SECONDS="3", STOP_GRACE_SECONDS="3",
                   **{k: str(v) for k, v in settings.items()})
        # The log goes to a file: an unread pipe would block a worker that logs a lot.
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def kill(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            self.process.wait(timeout=30)


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


def stop_and_show(processes):
    """Stop each started process (by PID, its `kill()`), then print the end of its log under
    its name: pytest shows the prints of a failed test."""
    for process in processes:
        process.kill()
        print(f"--- {process.name} ---")
        print(process.log_path.read_text(errors="replace")[-20000:])


@pytest.fixture
def live_server(app, tmp_path):
    """A real server process over the test database, stopped (by PID) afterwards."""
    from dashboard.tensorboard_process import free_port

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


@pytest.fixture(scope="session")
def client_venv():
    """The virtualenv holding polyaxon-client/-cli 0.6.1 (built by scripts/client-venv.sh)."""
    if not (CLIENT_VENV / "bin" / "python").exists():
        pytest.fail(f"the client virtualenv is missing at {CLIENT_VENV}: "
                    "run scripts/client-venv.sh")
    return CLIENT_VENV


def processes_with(text):
    """Pids of the live processes whose environment holds `text` (sandboxed ones included:
    the pids an experiment sees are its own PID namespace's, these are the machine's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if text.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found
