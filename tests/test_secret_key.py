"""Without SECRET_KEY the app signs with a random key made once in the instance folder."""

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dashboard.secret_key import instance_secret_key

ROOT = Path(__file__).resolve().parents[1]

OLD_CONSTANT = "dev-only-secret-key-change-me"
PRINT_KEY = "from dashboard import create_app; print(create_app('development').secret_key)"


def _app_key(instance, **env):
    """The key of an app built by a new process with the default config and no SECRET_KEY."""
    environment = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    environment.update(
        DASHBOARD_INSTANCE=str(instance),
        FLASK_CONFIG="development",
        DATABASE_URL=f"sqlite:///{instance / 'dashboard.db'}",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", PRINT_KEY],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_key_file_is_made_once_with_mode_0600_and_a_second_app_reuses_it(tmp_path):
    instance = tmp_path / "instance"

    first = _app_key(instance)
    second = _app_key(instance)

    key_file = instance / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) == 64 and int(first, 16) and first != OLD_CONSTANT
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in instance.iterdir()) == ["secret_key"]


def test_another_instance_folder_gets_another_key(tmp_path):
    assert instance_secret_key(tmp_path / "one") != instance_secret_key(tmp_path / "two")


def test_secret_key_from_the_environment_wins_and_no_file_is_made(tmp_path):
    instance = tmp_path / "instance"

    key = _app_key(instance, SECRET_KEY="from-the-environment")

    assert key == "from-the-environment"
    assert not (instance / "secret_key").exists()


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    barrier = threading.Barrier(16)
    keys = []

    def start():
        barrier.wait(timeout=30)
        keys.append(instance_secret_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(keys) == 16 and len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


def test_an_empty_key_file_stops_the_app_with_a_message(tmp_path):
    (tmp_path / "secret_key").write_text("\n")

    with pytest.raises(RuntimeError, match="holds no usable key"):
        instance_secret_key(tmp_path)
