"""A real HTTP receiver on 127.0.0.1 for webhook deliveries, and the helpers the webhook tests
share: adding a webhook, ending a group, sending what is due until nothing is."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import WebhookDelivery
from dashboard.runner import webhooks as sender
from dashboard.services.group import statuses
from dashboard.services.project import webhooks
from dashboard.services.project.access import project_access


class Receiver:
    """Answers each POST with the next of `answers` (the last one once they run out) and keeps
    what it got: (path, headers, body bytes). Start it with `with Receiver(...) as r:`."""

    def __init__(self, answers=(200,)):
        self.answers = list(answers)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, dict(self.headers), body))
                code = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?channel=ml"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def payloads(self):
        return [json.loads(body) for _, _, body in self.requests]


def signature(secret, body):
    """What X-Dashboard-Signature must say for `body` signed with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def add_webhook(project, url, events=("group.succeeded",), secret=None):
    access = project_access(project.owner.username, project.name, actor=project.owner)
    return webhooks.create_webhook(access, url=url, events=list(events), secret=secret)


def end_group(group, status="succeeded"):
    """The group runs, then ends in `status`, as the scheduler moves it."""
    statuses.set_group_status(group, "running")
    statuses.set_group_status(group, status)
    db.session.commit()


def deliveries(webhook_id=None):
    db.session.expire_all()
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if webhook_id is not None:
        stmt = stmt.where(WebhookDelivery.webhook_id == webhook_id)
    return db.session.scalars(stmt).all()


def deliver_until_settled(deadline=30):
    """Run the sender's passes until no delivery is pending (retries due at once: the tests set
    WEBHOOK_RETRY_SECONDS to zeros); fail at the deadline."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        sender.deliver_due(10)
        if all(d.status != "pending" for d in deliveries()):
            return deliveries()
        time.sleep(0.05)
    raise AssertionError("deliveries still pending at the deadline")
