"""A project's webhooks (admins): list, add, remove, and the attempts to deliver to each."""

from dashboard.api import route
from dashboard.api.helpers import access, dump, empty, parse
from dashboard.api.schemas.webhooks import (
    WebhookAttemptListOut,
    WebhookAttemptOut,
    WebhookIn,
    WebhookListOut,
    WebhookOut,
)
from dashboard.services.project import webhooks

WEBHOOKS = "/<username>/<project_name>/webhooks/"


def _out(webhook):
    return WebhookOut(
        id=webhook.id, url=webhook.url, events=webhook.events, created_at=webhook.created_at
    )


@route(WEBHOOKS, ["GET"], out=WebhookListOut)
def list_webhooks(username, project_name):
    """The project's webhooks (their secrets are never shown)."""
    found = webhooks.list_webhooks(access(username, project_name))
    return dump(WebhookListOut([_out(webhook) for webhook in found]))


@route(WEBHOOKS, ["POST"], status=201, out=WebhookOut, body=WebhookIn)
def create_webhook(username, project_name):
    """Add a webhook: an http(s) URL, the events it gets, an optional signing secret."""
    target = access(username, project_name, "manage_webhooks")
    body = parse(WebhookIn)
    webhook = webhooks.create_webhook(
        target, url=body.url, events=list(body.events), secret=body.secret
    )
    return dump(_out(webhook), 201)


@route(f"{WEBHOOKS}<int:webhook_id>/", ["DELETE"], status=204, out=None)
def delete_webhook(username, project_name, webhook_id):
    """Remove a webhook and its deliveries."""
    webhooks.delete_webhook(access(username, project_name), webhook_id)
    return empty(204)


@route(f"{WEBHOOKS}<int:webhook_id>/deliveries/", ["GET"], out=WebhookAttemptListOut)
def list_deliveries(username, project_name, webhook_id):
    """The webhook's last 50 delivery attempts, newest first: status code or error, and when."""
    rows = webhooks.list_attempts(access(username, project_name), webhook_id)
    return dump(
        WebhookAttemptListOut(
            [
                WebhookAttemptOut(
                    id=attempt.id,
                    delivery=delivery.id,
                    event=delivery.event,
                    group=delivery.group_id,
                    attempt=attempt.number,
                    status_code=attempt.status_code,
                    error=attempt.error,
                    created_at=attempt.created_at,
                    delivery_status=delivery.status,
                )
                for attempt, delivery in rows
            ]
        )
    )
