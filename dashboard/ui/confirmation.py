"""The confirmation of a costly action without JavaScript.

With JavaScript, htmx asks before a costly post (the button's hx-confirm). Without it the form
posts at once, so a form whose button asks carries its question in a hidden `confirm` field:
such a post, sent by the browser itself (not htmx) and not yet `confirmed`, gets a page that
asks the question, with a button that sends the same form again, confirmed, and a way back."""

from urllib.parse import urlsplit

from flask import render_template, request, url_for

from dashboard.ui import is_htmx, ui

# The question is the page's own text; a longer one is cut (it is only shown, never acted on).
MAX_QUESTION = 1_000
NOT_RESENT = {"csrf_token", "confirm", "confirmed"}


def needs_confirmation():
    """Whether this request is a costly post sent without JavaScript and not yet confirmed."""
    return (
        request.method == "POST"
        and not is_htmx()
        and request.mimetype == "application/x-www-form-urlencoded"
        and "confirm" in request.form
        and request.form.get("confirmed") != "1"
    )


def back_url():
    """Where Cancel goes: the page the form was on when it is on this site, else home."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("ui.home")


@ui.before_request
def confirm_without_javascript():
    """Answer an unconfirmed costly post with the question (after sign-in and CSRF checks)."""
    if not needs_confirmation():
        return None
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in NOT_RESENT]
    return render_template(
        "confirm.html",
        question=request.form["confirm"][:MAX_QUESTION],
        action=request.full_path.rstrip("?"),
        fields=fields,
        cancel=back_url(),
    )
