"""Configuration classes; every one honours DATABASE_URL when it is set."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("DASHBOARD_INSTANCE", BASE_DIR / "instance"))


CHECK_CONNECTIONS = os.environ.get("DB_POOL_PRE_PING", "1") != "0"


def engine_options(url):
    """SQLAlchemy engine options for a database URL, each overridable from the environment.

    Every engine checks a pooled connection before use (a restarted database costs no request):
    PostgreSQL's without a round trip (dashboard/database.py), others with pool_pre_ping's.
    Server databases get a sized pool recycled every DB_POOL_RECYCLE seconds; PostgreSQL
    sessions also get a statement timeout (DB_STATEMENT_TIMEOUT_MS, 0 turns it off).
    """
    options = {"pool_pre_ping": CHECK_CONNECTIONS and not url.startswith("postgresql")}
    if url.startswith("sqlite"):
        return options
    options.update(
        pool_size=int(os.environ.get("DB_POOL_SIZE", 5)),
        max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", 10)),
        pool_timeout=float(os.environ.get("DB_POOL_TIMEOUT", 30)),
        pool_recycle=int(os.environ.get("DB_POOL_RECYCLE", 1800)),
    )
    if url.startswith("postgresql"):
        timeout = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", 30000))
        options["connect_args"] = {
            "options": f"-c statement_timeout={timeout}",
            "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", 10)),
        }
    return options


class Config:
    """Settings shared by every environment."""

    # Unset: create_app uses a random key kept in the instance folder (dashboard/secret_key.py).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'dashboard.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    # PostgreSQL: a pooled connection is pinged only when its socket has something to read (the
    # server hung up) or it sat unused this long (dashboard/database.py).
    DB_CHECK_CONNECTIONS = CHECK_CONNECTIONS
    DB_PING_IDLE_SECONDS = float(os.environ.get("DB_PING_IDLE_SECONDS", 30))
    # Per-route limits are tighter (1 MiB for JSON); this is the repo upload ceiling.
    MAX_CONTENT_LENGTH = 150 * 1024 * 1024
    API_MAX_BODY = 1024 * 1024
    MAX_EXPERIMENTS_PER_GROUP = int(os.environ.get("MAX_EXPERIMENTS_PER_GROUP", 10000))
    OUTPUTS_ROOT = os.environ.get("OUTPUTS_ROOT", str(INSTANCE_DIR / "outputs"))
    # Code uploads: members and unpacked bytes per upload, bytes of all the uploads a project
    # keeps, and how many of its latest uploads are kept (besides those running experiments use).
    REPO_MAX_MEMBERS = int(os.environ.get("REPO_MAX_MEMBERS", 20000))
    REPO_MAX_UNPACKED_BYTES = int(os.environ.get("REPO_MAX_UNPACKED_BYTES", 256 * 1024 * 1024))
    REPO_PROJECT_QUOTA_BYTES = int(os.environ.get("REPO_PROJECT_QUOTA_BYTES", 1024 * 1024 * 1024))
    REPO_KEEP_UPLOADS = int(os.environ.get("REPO_KEEP_UPLOADS", 3))
    # How often the scheduler looks for outputs of deleted groups (and abandoned unpacks) to
    # remove, in a thread of its own.
    OUTPUTS_SWEEP_SECONDS = float(os.environ.get("OUTPUTS_SWEEP_SECONDS", 60))
    # A copied experiment's outputs start as a copy of its original's, made by the scheduler as
    # it launches it (in its round, which waits): at most this many bytes and seconds, else the
    # copy fails saying so.
    OUTPUTS_COPY_MAX_BYTES = int(os.environ.get("OUTPUTS_COPY_MAX_BYTES", 1024 * 1024 * 1024))
    OUTPUTS_COPY_SECONDS = float(os.environ.get("OUTPUTS_COPY_SECONDS", 120))
    # Failed sign-ins (UI and API together) per client address and account, and per address.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "50 per minute")
    # New tokens per user (the tokens page, and successful API logins, which each make one).
    TOKEN_RATE_LIMIT = os.environ.get("TOKEN_RATE_LIMIT", "30 per hour")
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", 0))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Runner: where experiments reach the API, how many run per worker, how often it looks.
    DASHBOARD_URL = os.environ.get("DASHBOARD_URL", "http://127.0.0.1:8000")
    WORKER_CAPACITY = int(os.environ.get("WORKER_CAPACITY", 8))
    # The GPU ids this worker (local or Celery) places experiments on, "0,1,2,3"; "": none.
    WORKER_GPUS = os.environ.get("WORKER_GPUS", "")
    WORKER_POLL_SECONDS = float(os.environ.get("WORKER_POLL_SECONDS", 0.5))
    WORKER_TIMEOUT_SECONDS = float(os.environ.get("WORKER_TIMEOUT_SECONDS", 30))
    STOP_GRACE_SECONDS = float(os.environ.get("STOP_GRACE_SECONDS", 10))
    # hyperband and bo iterations are worked out in a process of the scheduler's own
    # (dashboard/runner/searches.py): past these, the group fails naming the limit.
    SEARCH_TIMEOUT_SECONDS = float(os.environ.get("SEARCH_TIMEOUT_SECONDS", 120))
    SEARCH_MEMORY_MB = int(os.environ.get("SEARCH_MEMORY_MB", 2048))
    TENSORBOARD_IDLE_SECONDS = float(os.environ.get("TENSORBOARD_IDLE_SECONDS", 3600))
    # Every experiment runs in a bubblewrap sandbox (dashboard/runner/sandbox.py) as SANDBOX_UID
    # when the worker is root; SANDBOX=off runs them unisolated, as the worker (a single-user
    # laptop only). Extra folders every experiment sees at the same path, os.pathsep-separated.
    SANDBOX = os.environ.get("SANDBOX", "bwrap")
    SANDBOX_UID = int(os.environ.get("SANDBOX_UID", 65534))
    SANDBOX_GID = int(os.environ.get("SANDBOX_GID", os.environ.get("SANDBOX_UID", 65534)))
    SANDBOX_READ_ONLY_PATHS = os.environ.get("SANDBOX_READ_ONLY_PATHS", "")
    SANDBOX_WRITABLE_PATHS = os.environ.get("SANDBOX_WRITABLE_PATHS", "")
    # What each experiment may take of the machine (dashboard/runner/limits.py; 0: no limit):
    # niceness steps below the worker; memory in MiB (unset: 3/4 of the machine's memory split
    # between WORKER_CAPACITY experiments), a cgroup limit where the worker may make cgroups
    # (EXPERIMENT_CGROUPS=off: never), else RLIMIT_AS per process; RLIMIT_NPROC, counted per
    # uid so for all experiments of the sandbox uid together (each gets its WORKER_CAPACITY-th
    # in a pids cgroup); MiB per file (RLIMIT_FSIZE); MiB of its outputs and log.
    EXPERIMENT_NICE = int(os.environ.get("EXPERIMENT_NICE", 10))
    EXPERIMENT_MEMORY_MB = (
        int(os.environ["EXPERIMENT_MEMORY_MB"]) if os.environ.get("EXPERIMENT_MEMORY_MB") else None
    )
    EXPERIMENT_CGROUPS = os.environ.get("EXPERIMENT_CGROUPS", "auto")
    EXPERIMENT_NPROC = int(os.environ.get("EXPERIMENT_NPROC", 4096))
    EXPERIMENT_FILE_MB = int(os.environ.get("EXPERIMENT_FILE_MB", 4096))
    EXPERIMENT_OUTPUTS_MB = int(os.environ.get("EXPERIMENT_OUTPUTS_MB", 10240))
    # Distributed runner: RUNNER=celery makes `flask worker` a scheduler that sends experiments
    # to Celery workers over Redis; they report over HTTP every CELERY_HEARTBEAT_SECONDS.
    RUNNER = os.environ.get("RUNNER", "local")
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    CELERY_QUEUE = os.environ.get("CELERY_QUEUE", "experiments")
    CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3600))
    CELERY_HEARTBEAT_SECONDS = float(os.environ.get("CELERY_HEARTBEAT_SECONDS", 5))
    # A sent task that no worker started within this many seconds was lost (or its queue has no
    # worker): the experiment fails. The scheduler sends only within WORKER_CAPACITY, so a sent
    # task is taken at once unless that exceeds the workers' processes; 0 turns the check off.
    CELERY_PICKUP_TIMEOUT_SECONDS = float(os.environ.get("CELERY_PICKUP_TIMEOUT_SECONDS", 600))
    # Project webhooks (dashboard/runner/webhooks.py): seconds to wait before each retry of a
    # delivery that met a connection error, a timeout or a 5xx (5 attempts in all), each
    # attempt's timeout, whether targets may resolve to loopback, private or link-local
    # addresses (not in production), and the hosts allowed to all the same (comma-separated).
    WEBHOOK_RETRY_SECONDS = tuple(
        float(s) for s in os.environ.get("WEBHOOK_RETRY_SECONDS", "10,30,90,270").split(",")
    )
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", 5))
    WEBHOOK_ALLOW_PRIVATE = True
    WEBHOOK_ALLOWED_HOSTS = frozenset(
        host.strip().lower()
        for host in os.environ.get("WEBHOOK_ALLOWED_HOSTS", "").split(",")
        if host.strip()
    )
    WTF_CSRF_TIME_LIMIT = None
    # A signed-in session ends this many days after its sign-in, used or not (its row goes too).
    SESSION_MAX_AGE_DAYS = float(os.environ.get("SESSION_MAX_AGE_DAYS", 30))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PASSWORD_HASH_METHOD = "scrypt"
    REQUIRED_SETTINGS: tuple[str, ...] = ()
    # One JSON line per request on stderr (on by default in production only).
    REQUEST_LOG = os.environ.get("REQUEST_LOG", "0") == "1"


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
    REQUEST_LOG = os.environ.get("REQUEST_LOG", "1") == "1"
    # Webhooks may not reach the machine's own or its network's addresses (WEBHOOK_ALLOWED_HOSTS).
    WEBHOOK_ALLOW_PRIVATE = False


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
