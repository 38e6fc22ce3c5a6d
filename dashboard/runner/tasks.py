"""The Celery app (`celery -A dashboard.runner.tasks worker`) and its one task: run an experiment.

Configured from the environment through config.py (REDIS_URL, CELERY_QUEUE,
CELERY_VISIBILITY_TIMEOUT, OUTPUTS_ROOT, STOP_GRACE_SECONDS, CELERY_HEARTBEAT_SECONDS,
WORKER_GPUS and the SANDBOX settings).
Importing it creates no Flask app and opens no database connection: workers need neither.

A worker that declares GPUs (WORKER_GPUS) also serves a queue of its own, `gpu_queue`, where
the scheduler sends the experiments it placed on this worker's ids, and heartbeats its ids to
Redis (`gpu_heartbeat_key`, expiring unless renewed) for the scheduler to place on.
"""

import contextlib
import json
import socket
import threading

from celery import Celery
from celery.signals import celeryd_after_setup, worker_ready, worker_shutdown
from celery.utils.log import get_logger

from config import Config
from dashboard.runner.executor import run_job
from dashboard.runner.gpus import parse_gpus
from dashboard.runner.sandbox import Sandbox

TASK = "dashboard.run_experiment"
GPU_HEARTBEATS = "dashboard:gpu-workers"


def gpu_queue(queue, worker):
    """The queue of the experiments placed on `worker`'s GPUs (a worker of `queue`)."""
    return f"{queue}:gpus:{worker}"


def gpu_heartbeat_key(queue, worker):
    """Where `worker` (of `queue`) heartbeats the GPU ids it declares."""
    return f"{GPU_HEARTBEATS}:{queue}:{worker}"


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


GPUS = {"declared": [], "name": None, "stop": threading.Event()}


@celeryd_after_setup.connect
def share_the_machine(sender=None, instance=None, **extra):
    """Before the pool starts: each of this worker's processes gets an equal part of the
    experiments' limits (at most WORKER_CAPACITY run here), and the log says what they are."""
    global SANDBOX
    capacity = SETTINGS["WORKER_CAPACITY"]
    concurrency = getattr(instance, "concurrency", None) or capacity
    SANDBOX = Sandbox.from_config(SETTINGS, share=min(concurrency, capacity))
    for line in SANDBOX.limits.describe():
        logger.info("Experiment limits: %s", line)
    GPUS.update(declared=parse_gpus(SETTINGS["WORKER_GPUS"]), name=str(sender))
    if GPUS["declared"] and instance is not None:
        instance.app.amqp.queues.select_add(gpu_queue(SETTINGS["CELERY_QUEUE"], sender))
        logger.info("GPUs: %s", ", ".join(map(str, GPUS["declared"])))


def _beat_gpus(stop):
    """Heartbeat this worker's GPU ids until `stop` is set (a thread of the main process)."""
    import redis

    client = redis.Redis.from_url(SETTINGS["REDIS_URL"])
    key = gpu_heartbeat_key(SETTINGS["CELERY_QUEUE"], GPUS["name"])
    every = SETTINGS["CELERY_HEARTBEAT_SECONDS"]
    beat = json.dumps(
        {"name": GPUS["name"], "host": socket.gethostname(), "gpus": GPUS["declared"]}
    )
    while not stop.is_set():
        try:
            client.set(key, beat, px=int(max(3 * every, 2) * 1000))
        except redis.RedisError:
            logger.warning("could not heartbeat the GPUs to Redis; trying again")
        stop.wait(every)
    with contextlib.suppress(redis.RedisError):
        client.delete(key)


@worker_ready.connect
def start_gpu_heartbeats(sender=None, **extra):
    """Once the worker takes tasks: heartbeat its GPUs, if it declares any."""
    if GPUS["declared"] and GPUS["name"]:
        threading.Thread(target=_beat_gpus, args=(GPUS["stop"],), daemon=True).start()


@worker_shutdown.connect
def stop_gpu_heartbeats(sender=None, **extra):
    """The worker stops: its GPUs' key goes, so nothing more is placed on them."""
    GPUS["stop"].set()


@app.task(name=TASK, bind=True)
def run_experiment(self, job):
    """Run one experiment the scheduler sent (see dashboard.runner.executor)."""
    return run_job(
        job,
        worker=self.request.hostname,
        outputs_root=SETTINGS["OUTPUTS_ROOT"],
        grace=SETTINGS["STOP_GRACE_SECONDS"],
        heartbeat=SETTINGS["CELERY_HEARTBEAT_SECONDS"],
        sandbox=SANDBOX,
        gpus=GPUS["declared"],
    )
