"""The Celery dispatcher: the scheduler's round, with experiments sent to Celery workers.

It claims experiments centrally (each group's concurrency is enforced here, in the database),
prepares each one (command, code copy, key) and sends a `run_experiment` task carrying all a
worker needs. Stop requests are revoked with SIGTERM (the task kills the process group); the
task's heartbeats answer "stop" as well, so a missed revoke still stops it. A worker whose
heartbeats stop (killed, cut off) is lost: its experiments end failed, "Worker lost". A task
that no worker takes within CELERY_PICKUP_TIMEOUT_SECONDS was lost: its experiment ends failed.

GPUs: workers that declare them heartbeat their ids to Redis (dashboard/runner/tasks.py); each
round the scheduler records those workers, places experiments asking GPUs on one worker's free
ids (services/run/placement.py) and sends each to that worker's own queue.
"""

import json

import redis
from flask import current_app

from dashboard.runner.process import pid_alive
from dashboard.runner.scheduler import Scheduler
from dashboard.runner.tasks import TASK, gpu_heartbeat_key, gpu_queue, make_celery
from dashboard.services.run import runs
from dashboard.services.run.placement import GpuPool, record_gpu_workers


def task_id(uuid):
    """The experiment's task id: stable, so a stop can revoke it without storing anything."""
    return f"experiment-{uuid}"


class CeleryScheduler(Scheduler):
    """Schedules every group's experiments onto Celery workers, `capacity` unfinished at once.

    An experiment whose task no worker started within `pickup_timeout` seconds of it being sent
    fails, and its group goes on. The task was lost (Redis flushed or restarted without
    persistence, a dropped message, this scheduler killed just before the send) or no worker
    serves the queue; without the deadline the experiment would hold a slot of its group for
    ever. Tasks are sent only while fewer than `capacity` experiments are unfinished, so with
    WORKER_CAPACITY no larger than the workers' processes a sent task is taken within seconds
    and the deadline counts from the send (with a larger one, tasks wait for a busy worker:
    keep the timeout above the longest experiment, or 0 to turn the check off). Failing is
    preferred to sending again: a lost task is a broker fault to show, not to hide; a queue
    nobody serves would only double the wait; and a second send would have to be remembered
    per experiment (a column). A late task is harmless: its start report is refused once the
    experiment is final.
    """

    lost_message = "Worker lost: {worker} stopped sending heartbeats."
    unpicked_message = (
        "No worker took the experiment within {timeout:g} s of it being sent "
        "(the task was lost or no worker serves queue '{queue}')."
    )

    def __init__(self, *, capacity=None, poll=None):
        super().__init__(capacity=capacity, poll=poll)
        self.celery = make_celery(current_app.config)
        self.queue = current_app.config["CELERY_QUEUE"]
        # Claims carry a name that outlives this process: a restarted scheduler heartbeats it
        # again before it looks for lost work, so experiments still queued are not lost.
        self.name = f"celery-scheduler:{self.queue}"
        self.pid = 0
        self.revoked = set()
        self.pickup_timeout = current_app.config["CELERY_PICKUP_TIMEOUT_SECONDS"]
        self.redis = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=5)
        self.gpu_beats = []

    def run(self):
        self.send_unsent()
        super().run()

    def send_unsent(self):
        """Send what an earlier scheduler of this queue claimed and stopped before sending:
        the claims are named after the queue, so nothing else would ever take them up."""
        for experiment_id in runs.claimed_unsent(self.name):
            self.launch(experiment_id)

    def alive(self, pid):
        return pid_alive(pid)

    def watch(self):
        pending = runs.pending_stops()
        self.revoked &= {row[0] for row in pending}
        for experiment_id, uuid, worker in pending:
            if experiment_id in self.revoked:
                continue
            self.celery.control.revoke(task_id(uuid), terminate=True, signal="SIGTERM")
            self.revoked.add(experiment_id)
            if worker == self.name:
                # Still queued: no process to wait for (a worker that takes it is refused).
                runs.mark(experiment_id, "stopped", "Stopped on request.")
        self.fail_unpicked()
        self.record_gpu_beats()

    def fail_unpicked(self):
        """Fail the experiments whose task no worker took within the pickup timeout."""
        if self.pickup_timeout <= 0:
            return
        message = self.unpicked_message.format(timeout=self.pickup_timeout, queue=self.queue)
        failed = runs.unpicked_experiments(self.name, timeout=self.pickup_timeout, message=message)
        if failed:
            current_app.logger.warning(
                "no worker of queue %r took experiments %s within %g s",
                self.queue,
                failed,
                self.pickup_timeout,
            )

    def free_slots(self):
        return self.capacity - runs.in_flight()

    def gpu_pool(self):
        return GpuPool({beat["name"]: beat["gpus"] for beat in self.gpu_beats})

    def record_gpu_beats(self):
        """Record the workers of this queue that heartbeat their GPUs to Redis as alive, with
        their ids (every round: an idle worker stays known while no slot is free)."""
        beats = []
        try:
            for key in self.redis.scan_iter(match=gpu_heartbeat_key(self.queue, "*"), count=1000):
                value = self.redis.get(key)
                if value:
                    beats.append(json.loads(value))
        except (redis.RedisError, ValueError):  # nothing is placed on GPUs this round
            current_app.logger.exception("could not read the workers' GPU heartbeats")
            beats = []
        self.gpu_beats = beats
        record_gpu_workers(beats)

    def launch(self, experiment_id):
        launch = self.prepare(experiment_id)
        if launch is None:
            return
        job = {
            "experiment_id": experiment_id,
            "command": launch.command,
            "folder": str(launch.folder),
            "code": str(launch.code) if launch.code else None,
            "outputs": str(launch.outputs),
            "env": launch.env,
            "gpus": launch.gpus,
        }
        queue = gpu_queue(self.queue, launch.gpus["worker"]) if launch.gpus else self.queue
        try:
            self.celery.send_task(TASK, args=[job], task_id=task_id(launch.uuid), queue=queue)
        except Exception as exc:  # the broker is unreachable: the experiment cannot run
            current_app.logger.exception("could not send experiment %s", experiment_id)
            runs.mark(experiment_id, "failed", f"The experiment could not be sent: {exc}")
