"""What the sender (runner/webhooks.py) asks of the database: claim the due deliveries, build
one's request, record how an attempt went. The network is the sender's business.

A claim counts the attempt and leases the delivery for LEASE seconds, so two schedulers never
send it at once and one that dies mid-send leaves it to be sent again. A connection error, a
timeout or a 5xx is retried after each of WEBHOOK_RETRY_SECONDS in turn; any other answer ends
it (2xx delivered, anything else failed, redirects are not followed).
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from dashboard.errors import NotFound
from dashboard.extensions import db
from dashboard.models import Project, Webhook, WebhookAttempt, WebhookDelivery
from dashboard.models.types import utcnow
from dashboard.services.group import groups
from dashboard.services.project.access import ProjectAccess

LEASE = timedelta(minutes=2)
SIGNATURE_HEADER = "X-Dashboard-Signature"
GROUP_JSON = "dashboard.group_json"  # app.extensions: GroupDetail -> the JSON GET group answers


@dataclass(frozen=True)
class Outgoing:
    """One attempt's request: the exact bytes to POST and their headers."""

    delivery_id: int
    number: int
    url: str
    body: bytes
    headers: dict


def claim_due(limit):
    """The ids of up to `limit` pending deliveries that are due, each claimed for this attempt."""
    now = utcnow()
    ids = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if ids:
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(
                attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + LEASE, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


def _text(event, project, group, counts, failures):
    name = f"group {group.id}" + (f" '{group.name}'" if group.name else "")
    where = f"{project.unique_name}: "
    if event == "experiment.failed":
        many = "an experiment" if failures == 1 else f"{failures} experiments"
        return f"{where}{many} failed in {name}."
    tally = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("succeeded", "failed", "stopped"))
    verb = "was paused" if event == "group.paused" else event.split(".", 1)[1]
    return f"{where}{name} {verb} ({tally})."


def group_url(project, group_id):
    """The group page's absolute URL, under DASHBOARD_URL."""
    path = current_app.url_map.bind("localhost").build(
        "ui.group_page",
        {"owner": project.owner.username, "project": project.name, "group_id": group_id},
    )
    return current_app.config["DASHBOARD_URL"].rstrip("/") + path


def _body(delivery, project):
    # The group as GET group answers it to the project's owner.
    access = ProjectAccess(project=project, actor=project.owner, role="admin")
    detail = groups.get_group(access, delivery.group_id)
    url = group_url(project, delivery.group_id)
    text = _text(delivery.event, project, detail.group, detail.counts, delivery.failures)
    return json.dumps(
        {
            "event": delivery.event,
            "text": f"{text} {url}",
            "project": project.unique_name,
            "group": current_app.extensions[GROUP_JSON](detail),
            "url": url,
            "sent_at": utcnow().isoformat(timespec="microseconds"),
        },
        separators=(",", ":"),
    )


def prepare(delivery_id):
    """The claimed delivery's request (its body built at its first attempt and kept, so a retry
    sends the same bytes), or None when it cannot be sent (it is then recorded as failed)."""
    row = db.session.execute(
        select(WebhookDelivery, Webhook, Project)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .join(Project, Project.id == Webhook.project_id)
        .where(WebhookDelivery.id == delivery_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        db.session.rollback()
        return None
    delivery, webhook, project = row
    if delivery.body is None:
        try:
            delivery.body = _body(delivery, project)
        except NotFound:
            record(delivery.id, delivery.attempts, error="The group was deleted.", retry=False)
            return None
        db.session.commit()
    body = delivery.body.encode()
    headers = {"Content-Type": "application/json", "User-Agent": "dashboard-webhooks"}
    if webhook.secret:
        digest = hmac.new(webhook.secret.encode(), body, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    return Outgoing(delivery.id, delivery.attempts, webhook.url, body, headers)


def record(delivery_id, number, *, status_code=None, error=None, retry=True):
    """Log attempt `number` (a status code, or an error) and move the delivery on: delivered on
    a 2xx, retried later on an error or a 5xx while WEBHOOK_RETRY_SECONDS lasts (and `retry`),
    else failed."""
    now = utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        db.session.rollback()
        return None
    db.session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            webhook_id=delivery.webhook_id,
            number=number,
            status_code=status_code,
            error=error,
            created_at=now,
        )
    )
    delays = current_app.config["WEBHOOK_RETRY_SECONDS"]
    retryable = retry and (error is not None or status_code >= 500)
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.next_attempt_at = "delivered", None
    elif retryable and number <= len(delays):
        delivery.status = "pending"
        delivery.next_attempt_at = now + timedelta(seconds=delays[number - 1])
    else:
        delivery.status, delivery.next_attempt_at = "failed", None
    delivery.last_status_code = status_code
    delivery.last_error = error
    delivery.updated_at = now
    db.session.commit()
    return delivery
