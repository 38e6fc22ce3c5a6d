"""Configuration classes; every one honours DATABASE_URL when it is set."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("DASHBOARD_INSTANCE", BASE_DIR / "instance"))


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-key-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'dashboard.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Per-route limits are tighter (1 MiB for JSON); this is the repo upload ceiling.
    MAX_CONTENT_LENGTH = 150 * 1024 * 1024
    API_MAX_BODY = 1024 * 1024
    MAX_EXPERIMENTS_PER_GROUP = int(os.environ.get("MAX_EXPERIMENTS_PER_GROUP", 10000))
    OUTPUTS_ROOT = os.environ.get("OUTPUTS_ROOT", str(INSTANCE_DIR / "outputs"))
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Runner: where experiments reach the API, how many run per worker, how often it looks.
    DASHBOARD_URL = os.environ.get("DASHBOARD_URL", "http://127.0.0.1:8000")
    WORKER_CAPACITY = int(os.environ.get("WORKER_CAPACITY", 8))
    WORKER_POLL_SECONDS = float(os.environ.get("WORKER_POLL_SECONDS", 0.5))
    WORKER_TIMEOUT_SECONDS = float(os.environ.get("WORKER_TIMEOUT_SECONDS", 30))
    STOP_GRACE_SECONDS = float(os.environ.get("STOP_GRACE_SECONDS", 10))
    TENSORBOARD_IDLE_SECONDS = float(os.environ.get("TENSORBOARD_IDLE_SECONDS", 3600))
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PASSWORD_HASH_METHOD = "scrypt"
    REQUIRED_SETTINGS: tuple[str, ...] = ()


class DevelopmentConfig(Config):
    """The embedded default: SQLite under the instance folder."""

    DEBUG = False


class TestingConfig(Config):
    """Used by the test suite; DATABASE_URL picks SQLite or PostgreSQL."""

    TESTING = True
    # Hundreds of users are made per run: a cheap hash keeps the suite fast (never in production).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    """Refuses to start without SECRET_KEY and DATABASE_URL in the environment."""

    SESSION_COOKIE_SECURE = True
    REQUIRED_SETTINGS = ("SECRET_KEY", "DATABASE_URL")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
