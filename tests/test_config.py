"""Configuration, database set-up and migrations."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect, text

from config import DevelopmentConfig, ProductionConfig, TestingConfig
from dashboard import create_app
from dashboard.extensions import db
from tests.support.environment import DATABASE_URL, ROOT


def test_production_refuses_to_start_without_secret_key_and_database_url(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL"):
        create_app(ProductionConfig)


def test_production_starts_with_both_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    app = create_app(ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("config", ["development", "testing", "production"])
def test_every_config_honours_database_url(config, tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="s", FLASK_CONFIG=config)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dashboard import create_app; "
            "print(create_app().config['SQLALCHEMY_DATABASE_URI'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == url


def test_config_classes_inherit_the_shared_settings():
    for config in (DevelopmentConfig, TestingConfig, ProductionConfig):
        assert config.MAX_EXPERIMENTS_PER_GROUP == 10000
        assert config.SESSION_COOKIE_HTTPONLY is True


@pytest.mark.skipif(not DATABASE_URL.startswith("sqlite"), reason="SQLite pragmas")
def test_sqlite_opens_with_wal_busy_timeout_and_foreign_keys(app):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_db_upgrade_builds_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = dict(os.environ, DATABASE_URL=url, DASHBOARD_INSTANCE=str(tmp_path))
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {
        "users",
        "api_tokens",
        "projects",
        "memberships",
        "experiment_groups",
        "group_statuses",
        "experiments",
        "experiment_statuses",
        "search_iterations",
        "tensorboard_jobs",
        "tensorboard_statuses",
        "bookmarks",
    } <= tables


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'check.db'}"
    env = dict(os.environ, DATABASE_URL=url, DASHBOARD_INSTANCE=str(tmp_path))
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]
    subprocess.run(flask + ["upgrade"], cwd=ROOT, env=env, capture_output=True, check=True)
    check = subprocess.run(flask + ["check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_bookmarks_are_unique_per_user_and_group_in_the_database(app):
    from sqlalchemy.exc import IntegrityError

    from dashboard.models import Bookmark
    from tests.factories import make_group, make_project, make_user

    user = make_user("alice")
    group = make_group(make_project(user))
    db.session.add(Bookmark(user_id=user.id, group_id=group.id))
    db.session.commit()
    db.session.add(Bookmark(user_id=user.id, group_id=group.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
