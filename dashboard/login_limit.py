"""One limit on failed sign-ins, shared by the sign-in page and `POST /api/v1/users/token`.

Failures are counted per (client address, account) under LOGIN_RATE_LIMIT and per client
address under the looser LOGIN_ADDRESS_RATE_LIMIT, never per account alone: whoever guesses a
password from elsewhere exhausts their own address's counts, never the account owner's. Both
transports share the counters, so switching between them buys no extra guesses. Counts live in
Flask-Limiter's storage (RATELIMIT_STORAGE_URI), shared by every web process when it is Redis.
"""

import hashlib

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse

from dashboard.errors import TooManyRequests
from dashboard.extensions import limiter


def _limits(username):
    address = get_remote_address()
    account = hashlib.sha256(username.strip().lower().encode(errors="replace")).hexdigest()[:32]
    config = current_app.config
    return [
        (
            parse(config["LOGIN_RATE_LIMIT"]),
            ("login", address, account),
            "Too many requests (limit: {}). Try again later.",
        ),
        (
            parse(config["LOGIN_ADDRESS_RATE_LIMIT"]),
            ("login", address),
            "Too many failed sign-ins from your address (limit: {}). Try again later.",
        ),
    ]


def check(username):
    """Raise TooManyRequests (429) when this address may not try this account now."""
    for item, keys, message in _limits(username):
        if not limiter.limiter.test(item, *keys):
            raise TooManyRequests(message.format(item))


def failed(username):
    """Count one failed sign-in of this address for this account."""
    for item, keys, _ in _limits(username):
        limiter.limiter.hit(item, *keys)
