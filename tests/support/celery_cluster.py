"""The Celery cluster of the distributed runner's tests (a pytest plugin, see conftest.py): a
RUNNER=celery scheduler, Redis, and Celery workers without a database.

Redis is the one REDIS_URL names (scripts/test.sh starts it) or, when unset, a redis-server
started here; without redis-server these tests fail.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from dashboard.processes.tensorboard import free_port
from tests.support.environment import ROOT
from tests.support.processes import stop_and_show

NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:9/no-database-for-workers"
FAST = {
    "WORKER_TIMEOUT_SECONDS": "3",
    "STOP_GRACE_SECONDS": "3",
    "CELERY_HEARTBEAT_SECONDS": "0.5",
    "CELERY_VISIBILITY_TIMEOUT": "30",
}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """REDIS_URL from the environment, else a throwaway redis-server stopped by PID."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: install Debian's redis-server (scripts/redis.sh)")
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    password = uuid.uuid4().hex  # experiments share loopback: an open Redis would be theirs too
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--requirepass",
            password,
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, password=password)
        deadline = time.monotonic() + 10
        while not _pings(client):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://:{password}@127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pings(client):
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def celery_settings(redis_url):
    """Settings shared by the scheduler and the workers: a queue of this test's own."""
    return {"REDIS_URL": redis_url, "CELERY_QUEUE": f"experiments-{uuid.uuid4().hex[:12]}", **FAST}


class CeleryWorker:
    """A Celery worker in its own folder and session, without a database, stopped by PID."""

    def __init__(self, live_server, settings, folder, name, *, wrapper=False, concurrency=2):
        folder.mkdir(parents=True)
        self.name = name
        self.log_path = folder / "worker.log"
        env = {key: value for key, value in live_server.env.items() if key != "DATABASE_URL"}
        env.update(
            settings,
            DATABASE_URL=NOWHERE,
            PYTHONPATH=str(ROOT),
            OUTPUTS_ROOT=live_server.env["OUTPUTS_ROOT"],
            DASHBOARD_INSTANCE=str(folder / "instance"),
        )
        if wrapper:
            command = [
                "-m",
                "flask",
                "--app",
                "wsgi",
                "worker",
                "--celery",
                "--name",
                name,
                "--capacity",
                str(concurrency),
            ]
        else:
            command = [
                "-m",
                "celery",
                "-A",
                "dashboard.runner.tasks",
                "worker",
                "--loglevel=INFO",
                "-n",
                name,
                "-c",
                str(concurrency),
            ]
        # The log goes to a file: an unread pipe would block a worker that logs a lot.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *command],
                cwd=folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, sig=signal.SIGQUIT):
        """SIGQUIT (cold shutdown), then SIGKILL for the whole session if it lingers."""
        if self.process.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


@pytest.fixture
def scheduler(workers, celery_settings):
    """Starts the RUNNER=celery scheduler alone, with extra settings."""
    own = ("WORKER_TIMEOUT_SECONDS", "STOP_GRACE_SECONDS")  # set by WorkerProcess (the same)

    def start(**extra):
        return workers(
            RUNNER="celery",
            WORKER_CAPACITY=8,
            **extra,
            **{key: value for key, value in celery_settings.items() if key not in own},
        )

    return start


@pytest.fixture
def cluster(live_server, celery_settings, scheduler, tmp_path):
    """The scheduler (RUNNER=celery) and two Celery workers; logs printed at the end."""
    machines = []
    scheduler()
    tag = uuid.uuid4().hex[:6]
    for index, machine in enumerate(("alpha", "beta")):
        machines.append(
            CeleryWorker(
                live_server,
                celery_settings,
                tmp_path / machine,
                f"{machine}-{tag}@localhost",
                wrapper=index == 1,
            )
        )
    yield machines
    stop_and_show(machines)
