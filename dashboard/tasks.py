"""The Celery app (`celery -A dashboard.tasks worker`) and its one task: run an experiment.

Configured from the environment through config.py (REDIS_URL, CELERY_QUEUE,
CELERY_VISIBILITY_TIMEOUT, OUTPUTS_ROOT, STOP_GRACE_SECONDS, CELERY_HEARTBEAT_SECONDS and the
SANDBOX settings).
Importing it creates no Flask app and opens no database connection: workers need neither.
"""

from celery import Celery
from celery.signals import celeryd_after_setup
from celery.utils.log import get_logger

from config import Config
from dashboard.runner.executor import run_job
from dashboard.runner.sandbox import Sandbox

TASK = "dashboard.run_experiment"


def make_celery(settings):
    """A Celery app over Redis from a mapping of settings (an app's config, or Config's)."""
    celery = Celery("dashboard", broker=settings["REDIS_URL"])
    celery.conf.update(
        task_default_queue=settings["CELERY_QUEUE"],
        # A task is acknowledged when it ends, and a worker takes one task per free process:
        # what a worker that vanished had taken goes back to the queue after the timeout.
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": settings["CELERY_VISIBILITY_TIMEOUT"]},
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return celery


SETTINGS = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
SANDBOX = Sandbox.from_config(SETTINGS)
app = make_celery(SETTINGS)
logger = get_logger(__name__)


@celeryd_after_setup.connect
def share_the_machine(instance=None, **extra):
    """Before the pool starts: each of this worker's processes gets an equal part of the
    experiments' limits (at most WORKER_CAPACITY run here), and the log says what they are."""
    global SANDBOX
    capacity = SETTINGS["WORKER_CAPACITY"]
    concurrency = getattr(instance, "concurrency", None) or capacity
    SANDBOX = Sandbox.from_config(SETTINGS, share=min(concurrency, capacity))
    for line in SANDBOX.limits.describe():
        logger.info("Experiment limits: %s", line)


@app.task(name=TASK, bind=True)
def run_experiment(self, job):
    """Run one experiment the scheduler sent (see dashboard.runner.executor)."""
    return run_job(job, worker=self.request.hostname, outputs_root=SETTINGS["OUTPUTS_ROOT"],
                   grace=SETTINGS["STOP_GRACE_SECONDS"],
                   heartbeat=SETTINGS["CELERY_HEARTBEAT_SECONDS"], sandbox=SANDBOX)
