"""Queueing webhook deliveries as groups end or pause and experiments fail, in the transaction
that changes the status (services.group.statuses calls these; nothing is sent here).

Each call costs one query when the project has no webhook. `experiment.failed` is throttled per
webhook and group: failures join the group's delivery that has not been attempted yet, and a
new one waits until a minute after the previous one was queued, so a burst is one delivery that
counts it.
"""

from datetime import timedelta

from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, Webhook, WebhookDelivery
from dashboard.models.types import utcnow

GROUP_EVENTS = {
    "succeeded": "group.succeeded",
    "failed": "group.failed",
    "stopped": "group.stopped",
    "paused": "group.paused",
}
EXPERIMENT_FAILED = "experiment.failed"
THROTTLE = timedelta(minutes=1)


def group_status_changed(group, status):
    """Queue the event of a group's new status for the project's webhooks that want it."""
    event = GROUP_EVENTS.get(status)
    if event is None:
        return
    rows = db.session.execute(
        select(Webhook.id, Webhook.events).where(Webhook.project_id == group.project_id)
    ).all()
    now = utcnow()
    db.session.add_all(
        _pending(webhook_id, event, group.id, due=now, now=now)
        for webhook_id, events in rows
        if event in events
    )


def _pending(webhook_id, event, group_id, *, due, now, failures=0):
    return WebhookDelivery(
        webhook_id=webhook_id,
        event=event,
        group_id=group_id,
        failures=failures,
        status="pending",
        attempts=0,
        scheduled_at=due,
        next_attempt_at=due,
        created_at=now,
        updated_at=now,
    )


def experiments_failed(experiment_ids):
    """Queue (or join to a waiting one) `experiment.failed` for the groups of these experiments
    that just failed: a constant number of queries however many there are."""
    if not experiment_ids:
        return
    rows = db.session.execute(
        select(Experiment.group_id, Webhook.id, Webhook.events)
        .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
        .join(Webhook, Webhook.project_id == ExperimentGroup.project_id)
        .where(Experiment.id.in_(experiment_ids))
    ).all()
    counts = {}  # (webhook, group) -> failures
    for group_id, webhook_id, events in rows:
        if EXPERIMENT_FAILED in events:
            counts[(webhook_id, group_id)] = counts.get((webhook_id, group_id), 0) + 1
    if counts:
        _queue_failures(counts)


def _queue_failures(counts):
    now = utcnow()
    latest = {}
    for delivery in db.session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.group_id.in_({group_id for _, group_id in counts}),
            WebhookDelivery.event == EXPERIMENT_FAILED,
            WebhookDelivery.webhook_id.in_({webhook_id for webhook_id, _ in counts}),
            WebhookDelivery.scheduled_at > now - THROTTLE,
        )
        .order_by(WebhookDelivery.id)
    ):
        latest[(delivery.webhook_id, delivery.group_id)] = delivery
    for (webhook_id, group_id), failures in counts.items():
        previous = latest.get((webhook_id, group_id))
        if previous is not None and _joined(previous, failures, now):
            continue
        due = max(now, previous.scheduled_at + THROTTLE) if previous else now
        db.session.add(
            _pending(webhook_id, EXPERIMENT_FAILED, group_id, due=due, now=now, failures=failures)
        )


def _joined(delivery, failures, now):
    """Add failures to a delivery not attempted yet; False if the sender took it meanwhile (a
    conditional UPDATE: it waits for the sender's claim, which sets `attempts`)."""
    if delivery.attempts:
        return False
    joined = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.attempts == 0)
        .values(failures=WebhookDelivery.failures + failures, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(joined)
