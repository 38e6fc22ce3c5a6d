"""Production serving: engine settings, /healthz, the JSON request log, gunicorn, deploy/."""

import json
import logging
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text

from config import TestingConfig, engine_options
from dashboard import create_app, request_log
from dashboard.extensions import db
from dashboard.models.types import utcnow
from dashboard.processes.tensorboard import free_port
from tests.factories import auth, make_token, make_user
from tests.support.environment import DATABASE_URL, ROOT

IS_POSTGRES = DATABASE_URL.startswith("postgresql")


# ---- engine settings ---------------------------------------------------------------------


def test_postgresql_engine_gets_a_sized_pool_and_a_statement_timeout(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "7")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "1500")
    options = engine_options("postgresql+psycopg://u@db/dashboard")
    # Its connections are checked without a round trip instead (tests/test_database_connections).
    assert options["pool_pre_ping"] is False
    assert options["pool_size"] == 7
    assert options["max_overflow"] == 10
    assert options["pool_recycle"] == 1800
    assert options["connect_args"]["options"] == "-c statement_timeout=1500"


def test_sqlite_engine_gets_no_pool_sizing_nor_server_options():
    assert engine_options("sqlite:///x.db") == {"pool_pre_ping": True}


@pytest.mark.skipif(not IS_POSTGRES, reason="a PostgreSQL session setting")
def test_postgresql_sessions_run_with_the_statement_timeout(monkeypatch):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "200")

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = DATABASE_URL
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(DATABASE_URL)

    with create_app(Config).app_context():
        try:
            assert db.session.execute(text("SHOW statement_timeout")).scalar() == "200ms"
            with pytest.raises(Exception, match="statement timeout"):
                db.session.execute(text("SELECT pg_sleep(2)"))
        finally:
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()


# ---- /healthz ----------------------------------------------------------------------------


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == db.engine.dialect.name
    assert body["database_ms"] >= 0


def test_healthz_needs_no_sign_in_and_writes_nothing(client, count_queries):
    with count_queries() as statements:
        assert client.get("/healthz/").status_code == 200
    assert [s.split()[0].upper() for s in statements] == ["SELECT"]


def test_healthz_is_503_with_the_reason_when_the_database_is_unreachable(tmp_path):
    # A PostgreSQL URL on a loopback port nothing listens on: the connection is refused.
    class Unreachable(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
        SECRET_KEY = "test-secret"
        OUTPUTS_ROOT = str(tmp_path)

    app = create_app(Unreachable)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["detail"].startswith("The database is unreachable: ")
    assert "refused" in body["detail"]
    assert response.headers["Retry-After"] == "5"


# ---- request log -------------------------------------------------------------------------


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def logged_client(fresh_app):
    """A client of an app with the request log on, and the parsed lines it logs."""
    fresh_app.config["REQUEST_LOG"] = True
    request_log.register(fresh_app)
    lines = _Lines()
    request_log.logger.addHandler(lines)
    try:
        yield fresh_app.test_client(), lines.lines
    finally:
        request_log.logger.removeHandler(lines)


def test_request_log_writes_one_json_line_per_request_with_the_user(logged_client):
    client, lines = logged_client
    key = make_token(make_user("ann"))
    response = client.get("/api/v1/users", headers=auth(key))
    assert response.status_code == 200
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == {"time", "request_id", "method", "path", "status", "duration_ms", "user"}
    assert (line["method"], line["path"], line["status"], line["user"]) == (
        "GET",
        "/api/v1/users",
        200,
        "ann",
    )
    assert line["duration_ms"] > 0
    assert response.headers["X-Request-ID"] == line["request_id"]


def test_request_log_keeps_the_callers_request_id_and_logs_anonymous_redirects(logged_client):
    client, lines = logged_client
    response = client.get("/", headers={"X-Request-ID": "lb-1234"})
    assert response.status_code == 302
    assert response.headers["X-Request-ID"] == "lb-1234"
    assert lines[0]["request_id"] == "lb-1234"
    assert lines[0]["user"] is None
    assert lines[0]["status"] == 302


def test_request_log_replaces_a_request_id_that_is_not_an_id(logged_client):
    client, lines = logged_client
    response = client.get("/healthz", headers={"X-Request-ID": "x" * 200})
    assert len(lines[0]["request_id"]) == 32
    assert response.headers["X-Request-ID"] == lines[0]["request_id"]


def test_request_log_is_off_unless_asked():
    assert TestingConfig.REQUEST_LOG is False


# ---- deploy/: each service's command, started natively ------------------------------------

COMPOSE = ROOT / "deploy" / "docker-compose.yml"
SYSTEMD = ROOT / "deploy" / "systemd"
# The compose worker runs the Celery runner (dashboard/runner/tasks.py): it is started and checked
# as soon as that module is in the repo, with a redis-server of the test's own (Debian's package,
# installed by scripts/test.sh); a missing redis-server or celery then fails the test.
CHECK_CELERY_WORKER = (ROOT / "dashboard" / "runner" / "tasks.py").exists()
# Started by the test itself (the suite's database; a redis-server of its own), not from compose.
PROVIDED = ("postgres", "redis")


def compose_services():
    """The compose file's services, merge keys (<<: *anchor) resolved by the YAML loader."""
    import yaml

    return yaml.safe_load(COMPOSE.read_text())["services"]


class Service:
    """One compose service's command run natively in its own process group, stopped by PID."""

    def __init__(self, name, spec, overrides, tmp_path):
        self.name = name
        command = spec["command"]
        self.command = command if isinstance(command, list) else ["sh", "-c", command]
        environment = {**spec.get("environment", {}), **overrides}
        unresolved = {k: v for k, v in environment.items() if "${" in str(v)}
        assert not unresolved, f"{name}: compose variables the test did not set: {unresolved}"
        # Nothing inherited but PATH (the virtualenv first, as in the image): the compose
        # environment must be enough.
        path = f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        self.env = {
            "PATH": path,
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            **{k: str(v) for k, v in environment.items()},
        }
        self.log = tmp_path / f"{name}.log"
        self.process = None

    def start(self):
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self):
        return self.log.read_text(errors="replace")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_for(check, service, timeout, what):
    """Poll check() until it is true; fail with the service's output if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        assert service.alive(), f"{service.name} exited before {what}:\n{service.output()}"
        time.sleep(0.2)
    pytest.fail(f"{service.name}: no {what} within {timeout} s:\n{service.output()}")


def healthz(url, request_id):
    try:
        request = urllib.request.Request(f"{url}/healthz", headers={"X-Request-ID": request_id})
        with urllib.request.urlopen(request, timeout=3) as response:
            return response.status == 200 and json.load(response)["status"] == "ok"
    except (OSError, urllib.error.HTTPError):
        return False


def api_login(url, username, password):
    """The status of the client's login call (a JSON POST to /api/v1/users/token)."""
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{url}/api/v1/users/token",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def heartbeat_of(scheduler, since):
    """The scheduler's heartbeat row (workers table) seen after `since`: the local runner's is
    named by its process id, the Celery scheduler's by its queue (it has no pid of its own)."""
    from dashboard.models import Worker

    db.session.rollback()  # see rows committed by other processes
    env = scheduler.env
    if env.get("RUNNER") == "celery":
        match = Worker.name == f"celery-scheduler:{env.get('CELERY_QUEUE', 'experiments')}"
    else:
        match = Worker.pid == scheduler.process.pid
    return db.session.execute(
        db.select(Worker).where(match, Worker.last_seen_at >= since)
    ).scalar_one_or_none()


def _accepts(port):
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server on a free loopback port (Debian's package), stopped by PID."""
    import shutil

    server = shutil.which("redis-server")
    assert server, "redis-server is missing: scripts/test.sh installs Debian's redis-server"
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not _accepts(port):
            assert process.poll() is None and time.monotonic() < deadline, "redis did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_compose_file_declares_the_five_services_with_health_checks():
    services = compose_services()
    assert set(services) == {"web", "scheduler", "worker", "postgres", "redis"}
    for name in ("web", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    for name in ("web", "scheduler", "worker"):
        environment = services[name]["environment"]
        for key in (
            "FLASK_CONFIG",
            "SECRET_KEY",
            "DATABASE_URL",
            "REDIS_URL",
            "OUTPUTS_ROOT",
            "TENSORBOARD_IDLE_SECONDS",
        ):
            assert key in environment, f"{name} lacks {key}"
        assert environment["FLASK_CONFIG"] == "production"
    assert services["scheduler"]["command"] == ["flask", "--app", "wsgi", "worker"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "dashboard.runner.tasks", "worker"]


def test_systemd_units_run_the_compose_commands():
    services = compose_services()
    units = {"dashboard-scheduler.service": "scheduler", "dashboard-worker.service": "worker"}
    for unit, service in units.items():
        lines = (SYSTEMD / unit).read_text().splitlines()
        start = next(line for line in lines if line.startswith("ExecStart="))
        command = start.removeprefix("ExecStart=/opt/dashboard/.venv/bin/").split()
        assert command == services[service]["command"]
    web = (SYSTEMD / "dashboard-web.service").read_text()
    assert "ExecStartPre=/opt/dashboard/.venv/bin/flask --app wsgi db upgrade" in web
    assert "ExecStart=/opt/dashboard/.venv/bin/gunicorn -c gunicorn.conf.py wsgi:app" in web


def test_compose_services_start_natively_and_become_healthy(app, tmp_path, request):
    """web answers /healthz (and logs JSON lines), the scheduler heartbeats; on the suite's own
    database (PostgreSQL in the PostgreSQL run), with a redis of the test's own when needed."""
    services = compose_services()
    assert [name for name in services if name not in PROVIDED] == ["web", "scheduler", "worker"]
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    port = free_port()
    redis = (
        request.getfixturevalue("redis_url")
        if CHECK_CELERY_WORKER
        else f"redis://127.0.0.1:{free_port()}/0"
    )
    common = {
        "SECRET_KEY": "compose-test-secret",
        "DATABASE_URL": url,
        "REDIS_URL": redis,
        "RATELIMIT_STORAGE_URI": redis.removesuffix("/0") + "/1",
        "DASHBOARD_INSTANCE": str(tmp_path / "instance"),
        "OUTPUTS_ROOT": str(tmp_path / "outputs"),
        "DASHBOARD_URL": f"http://127.0.0.1:{port}",
    }
    web = Service(
        "web",
        services["web"],
        {**common, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"},
        tmp_path,
    )
    scheduler = Service(
        "scheduler", services["scheduler"], {**common, "WORKER_POLL_SECONDS": "0.2"}, tmp_path
    )
    started = [web, scheduler]
    try:
        web.start()
        wait_for(
            lambda: healthz(web.env["DASHBOARD_URL"], "compose-probe"), web, 60, "200 from /healthz"
        )
        since = utcnow()
        scheduler.start()
        wait_for(lambda: heartbeat_of(scheduler, since) is not None, scheduler, 60, "heartbeat row")
        if CHECK_CELERY_WORKER:
            # A sign-in through gunicorn counts in the shared (redis) rate-limit storage.
            make_user("compose-user", "pw")
            assert api_login(web.env["DASHBOARD_URL"], "compose-user", "pw") == 200
            worker = Service("worker", services["worker"], common, tmp_path)
            started.append(worker)
            worker.start()
            wait_for(lambda: " ready." in worker.output(), worker, 60, "'ready.' log line")
    finally:
        for service in reversed(started):
            service.stop()
    lines = [json.loads(line) for line in web.output().splitlines() if line.startswith("{")]
    probe = [line for line in lines if line["request_id"] == "compose-probe"]
    assert probe and probe[-1]["path"] == "/healthz" and probe[-1]["status"] == 200
    assert "Booting worker" in web.output()  # gunicorn served it
