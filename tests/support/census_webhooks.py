"""Census cases: bad webhooks sent to the API (EXTENSIONS.md section 2)."""

import json

from tests.support.census import UP, Cases, post_json

CASES = Cases()
bad = CASES.bad

GOOD = {"url": "https://hooks.example.com/x", "events": ["group.failed"]}
WEBHOOK_BODIES = [
    ("an ftp URL", {"url": "ftp://example.com/x"}, "Only http and https URLs."),
    ("a javascript: URL", {"url": "javascript:alert(1)"}, "Only http and https URLs."),
    ("a file: URL", {"url": "file:///etc/passwd"}, "Only http and https URLs."),
    ("a URL without a host", {"url": "http:///hook"}, "The URL names no host."),
    ("a URL with a bad port", {"url": "http://example.com:0x50/"}, "The port is not a number"),
    ("a URL with a space", {"url": "http://exa mple.com/"}, "no spaces"),
    ("a URL too long", {"url": "https://example.com/" + "a" * 2000}, "url"),
    ("a URL a number", {"url": 5}, "url"),
    ("no URL", {"url": None}, "url"),
    ("an unknown event", {"events": ["group.exploded"]}, "Input should be 'group.succeeded'"),
    ("no event", {"events": []}, "events"),
    ("events a string", {"events": "group.failed"}, "events"),
    ("events of numbers", {"events": [1]}, "events"),
    ("a secret too long", {"secret": "s" * 257}, "secret"),
    ("a secret a number", {"secret": 42}, "secret"),
]
for _label, _body, _says in WEBHOOK_BODIES:
    bad(f"webhook: {_label}", 400, _says)(
        lambda w, body=_body: post_json(w, UP + "/webhooks", json.dumps({**GOOD, **body}))
    )


@bad("webhook: a missing URL field", 400, "This field is required.")
def _no_url(w):
    return post_json(w, UP + "/webhooks", json.dumps({"events": ["group.failed"]}))


@bad("webhook: delete an unknown one", 404, "No such webhook.")
def _delete_unknown(w):
    return w["api"].delete(UP + "/webhooks/999999", headers=w["h"])


@bad("webhook: deliveries of an unknown one", 404, "No such webhook.")
def _deliveries_unknown(w):
    return w["api"].get(UP + "/webhooks/999999/deliveries", headers=w["h"])
