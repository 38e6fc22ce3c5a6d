"""Security headers on every answer: a strict Content-Security-Policy and its companions.

The dashboard's own pages run no inline script and no eval (htmx is configured for that in
base.html), so scripts come from 'self' only. Inline `style` attributes stay allowed (and only
attributes: never `<style>` elements): the status bars and heat maps size and colour their cells
with them, and Jinja escapes every value they carry.

TensorBoard's own page, served same-origin under /tensorboard/, sends its own policy (its scripts
need 'unsafe-eval' and hashed inline scripts): we keep it, add a second policy that forbids
framing by other sites, foreign `<base>` and form targets (a browser enforces both), and allow
same-origin frames there only, because TensorBoard renders its plugins in iframes of its own.
"""

from flask import current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
# Added beside TensorBoard's own policy (or the strict one when it sends none).
TENSORBOARD_CSP = "; ".join(
    (
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'self'",
        "form-action 'self'",
    )
)
TENSORBOARD_PREFIX = "/tensorboard/"
PROXY_ENDPOINTS = ("ui.tensorboard_proxy", "ui.selection_proxy")  # a group's, a selection's
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response):
    """Set the policy headers on a response (after every request, errors included)."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.path.startswith(TENSORBOARD_PREFIX) and request.endpoint in PROXY_ENDPOINTS:
        if "Content-Security-Policy" in response.headers:
            response.headers.add("Content-Security-Policy", TENSORBOARD_CSP)
        else:  # our own answer (TensorBoard not running), or a TensorBoard file without one
            response.headers["Content-Security-Policy"] = CSP.replace(
                "frame-ancestors 'none'", "frame-ancestors 'self'"
            )
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    else:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Frame-Options"] = "DENY"
    if request.is_secure and current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def register(app):
    """Install the header step; trust TRUSTED_PROXY_HOPS reverse proxies' forwarded headers.

    Behind a proxy every request comes from the proxy's address: without this, the sign-in
    rate limit would count all users as one client.
    """
    app.after_request(add_security_headers)
    hops = app.config.get("TRUSTED_PROXY_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
