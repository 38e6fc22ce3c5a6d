"""Sending webhook deliveries, in a thread beside the scheduler's round (as sweep.py does).

Each round starts a pass if none runs and the last began at least `every` seconds ago; a pass
sends up to `batch` due deliveries one after another, each attempt bounded by
WEBHOOK_TIMEOUT_SECONDS, so a slow receiver delays other deliveries, never the round. The host
is resolved and checked (services.project.webhooks.resolve_target) and the connection goes to
the address checked, with the URL's host in the Host header and TLS's server name: nothing
resolves the name again in between. Redirects are not followed.
"""

import http.client
import socket
import ssl
from urllib.parse import urlsplit

from flask import current_app

from dashboard.errors import public_reason
from dashboard.runner.periodic import Periodic
from dashboard.services.project import webhook_delivery
from dashboard.services.project.webhooks import RefusedTarget, resolve_target


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a given address, whatever its host name resolves to now."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS, the certificate checked against the URL's host name."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, body, headers, *, timeout, config=None):
    """POST body to url through a checked address; the answer's status code. RefusedTarget when
    the host may not be reached, OSError or HTTPException when the exchange fails."""
    addresses = resolve_target(url, config)
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    kind = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    error = None
    for _, address in addresses:
        connection = kind(parts.hostname, port, address=address, timeout=timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            return connection.getresponse().status
        except ConnectionRefusedError as exc:  # the next address may answer
            error = exc
        finally:
            connection.close()
    raise error


def send(delivery_id):
    """Make one attempt at a claimed delivery and record it."""
    outgoing = webhook_delivery.prepare(delivery_id)
    if outgoing is None:
        return
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    try:
        status = post(outgoing.url, outgoing.body, outgoing.headers, timeout=timeout)
    except RefusedTarget as exc:
        webhook_delivery.record(delivery_id, outgoing.number, error=str(exc), retry=exc.retry)
    except TimeoutError:
        webhook_delivery.record(delivery_id, outgoing.number, error=f"No answer in {timeout:g} s.")
    except (OSError, http.client.HTTPException) as exc:
        error = public_reason(exc) or type(exc).__name__
        webhook_delivery.record(delivery_id, outgoing.number, error=error[:500])
    else:
        webhook_delivery.record(delivery_id, outgoing.number, status_code=status)


def deliver_due(batch):
    """Send up to `batch` due deliveries (needs an app context); returns how many were tried."""
    ids = webhook_delivery.claim_due(batch)
    for delivery_id in ids:
        send(delivery_id)
    return len(ids)


class Deliverer(Periodic):
    """Sends up to `batch` due deliveries of `app` every `every` seconds at most, each pass in a
    thread of its own."""

    name = "webhooks"

    def __init__(self, app, *, every=1.0, batch=10):
        super().__init__(app, every=every)
        self.batch = batch

    def work(self):
        deliver_due(self.batch)
