"""A project's webhooks (admins): the rules a target obeys, adding, listing and removing them,
and what was sent to each."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select

from dashboard.errors import NotFound, ValidationError, field_error
from dashboard.extensions import db
from dashboard.models import Webhook, WebhookAttempt, WebhookDelivery

EVENTS = (
    "group.succeeded",
    "group.failed",
    "group.stopped",
    "group.paused",
    "experiment.failed",
)
MAX_URL = 2000
MAX_SECRET = 256
MAX_WEBHOOKS = 20  # per project
LAST_ATTEMPTS = 50  # GET .../deliveries
LAST_DELIVERIES = 5  # per webhook, on the settings page


class RefusedTarget(Exception):
    """The webhook's host does not resolve (`retry`: it may later) or resolves to an address it
    may not use."""

    def __init__(self, message, *, retry=False):
        super().__init__(message)
        self.retry = retry


def url_problem(url):
    """What is wrong with a webhook URL, or None."""
    if not isinstance(url, str) or not url:
        return "A URL is required."
    if len(url) > MAX_URL:
        return f"At most {MAX_URL} characters."
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "A URL has no spaces or control characters."
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return "Only http and https URLs."
    try:
        parts.port  # noqa: B018  (raises on a port out of range or not a number)
    except ValueError:
        return "The port is not a number from 1 to 65535."
    if not parts.hostname:
        return "The URL names no host."
    return None


def events_problem(events):
    """What is wrong with a list of events, or None."""
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        return "A list of event names."
    if not events:
        return f"At least one of: {', '.join(EVENTS)}."
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        return f"Unknown event '{unknown[0][:64]}' (one of: {', '.join(EVENTS)})."
    return None


def secret_problem(secret):
    """What is wrong with a signing secret, or None (none at all is fine)."""
    if secret is None:
        return None
    if not isinstance(secret, str):
        return "A string."
    if len(secret) > MAX_SECRET:
        return f"At most {MAX_SECRET} characters."
    return None


def _refused(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve_target(url, config=None):
    """The (family, address) pairs the URL's host resolves to that a delivery may connect to;
    RefusedTarget if it does not resolve, or (unless private targets are allowed or the host is
    in WEBHOOK_ALLOWED_HOSTS) when an address is loopback, private, link-local, reserved or
    multicast. Checked when a webhook is added and again before each delivery, whose
    connection then goes to an address checked here (no second lookup to rebind)."""
    config = config or current_app.config
    parts = urlsplit(url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedTarget(f"The host '{host}' does not resolve: {exc}.", retry=True) from None
    addresses = list(dict.fromkeys((family, info[0]) for family, _, _, _, info in infos))
    if config["WEBHOOK_ALLOW_PRIVATE"] or host.lower() in config["WEBHOOK_ALLOWED_HOSTS"]:
        return addresses
    refused = [address for _, address in addresses if _refused(address)]
    if refused:
        raise RefusedTarget(
            f"The host '{host}' resolves to {refused[0]}, a loopback, private or link-local "
            "address (list it in WEBHOOK_ALLOWED_HOSTS to allow it)."
        )
    return addresses


def check_fields(url, events, secret):
    """Raise a ValidationError naming every field at fault."""
    problems = {
        name: [problem]
        for name, problem in (
            ("url", url_problem(url)),
            ("events", events_problem(events)),
            ("secret", secret_problem(secret)),
        )
        if problem
    }
    if problems:
        raise ValidationError(" ".join(m for ms in problems.values() for m in ms), fields=problems)


def list_webhooks(access):
    """The project's webhooks, oldest first (admins)."""
    access.require("manage_webhooks")
    return db.session.scalars(
        select(Webhook).where(Webhook.project_id == access.project.id).order_by(Webhook.id)
    ).all()


def create_webhook(access, *, url, events, secret=None):
    """Add a webhook (admins): an http(s) URL, the events it gets, an optional signing secret."""
    access.require("manage_webhooks")
    secret = secret or None
    check_fields(url, events, secret)
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        try:
            resolve_target(url)
        except RefusedTarget as exc:
            raise field_error("url", str(exc)) from None
    count = db.session.scalar(
        select(func.count(Webhook.id)).where(Webhook.project_id == access.project.id)
    )
    if count >= MAX_WEBHOOKS:
        raise ValidationError(f"A project has at most {MAX_WEBHOOKS} webhooks.")
    webhook = Webhook(
        project_id=access.project.id,
        url=url,
        events=[e for e in EVENTS if e in events],
        secret=secret,
        created_by_id=access.actor.id if access.actor else None,
    )
    db.session.add(webhook)
    db.session.commit()
    return webhook


def _webhook(access, webhook_id):
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None or webhook.project_id != access.project.id:
        raise NotFound("No such webhook.")
    return webhook


def delete_webhook(access, webhook_id):
    """Remove a webhook with its deliveries (admins)."""
    access.require("manage_webhooks")
    db.session.delete(_webhook(access, webhook_id))
    db.session.commit()


def list_attempts(access, webhook_id):
    """The webhook's last LAST_ATTEMPTS attempts, newest first: (attempt, its delivery)."""
    access.require("manage_webhooks")
    webhook = _webhook(access, webhook_id)
    return db.session.execute(
        select(WebhookAttempt, WebhookDelivery)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(WebhookAttempt.webhook_id == webhook.id)
        .order_by(WebhookAttempt.id.desc())
        .limit(LAST_ATTEMPTS)
    ).all()


@dataclass(frozen=True)
class WebhookRow:
    """A webhook with its latest deliveries, newest first (the settings page)."""

    webhook: Webhook
    deliveries: list


def webhooks_with_deliveries(access):
    """Every webhook of the project with its last LAST_DELIVERIES deliveries: two queries."""
    webhooks = list_webhooks(access)
    ranked = (
        select(
            WebhookDelivery.id,
            func.row_number()
            .over(partition_by=WebhookDelivery.webhook_id, order_by=WebhookDelivery.id.desc())
            .label("rank"),
        )
        .where(WebhookDelivery.webhook_id.in_([w.id for w in webhooks]))
        .subquery()
    )
    deliveries = db.session.scalars(
        select(WebhookDelivery)
        .join(ranked, ranked.c.id == WebhookDelivery.id)
        .where(ranked.c.rank <= LAST_DELIVERIES)
        .order_by(WebhookDelivery.id.desc())
    ).all()
    by_webhook = {w.id: [] for w in webhooks}
    for delivery in deliveries:
        by_webhook[delivery.webhook_id].append(delivery)
    return [WebhookRow(w, by_webhook[w.id]) for w in webhooks]
