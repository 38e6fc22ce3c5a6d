"""The user's API tokens: create (the key is shown once), list, revoke one or all."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user

from dashboard.errors import ValidationError
from dashboard.extensions import limiter
from dashboard.services.user import users
from dashboard.ui import is_htmx, route


def _tokens_page(*, new_key=None, new_token=None, errors=None, status=200):
    body = render_template(
        "settings/tokens.html",
        tokens=users.list_tokens(current_user),
        new_key=new_key,
        new_token=new_token,
        errors=errors or {},
    )
    # The page may carry a fresh key: never keep it in a cache.
    return body, status, {"Cache-Control": "no-store"}


def _token_limit():
    return current_app.config["TOKEN_RATE_LIMIT"]


def _user_key():
    return f"tokens:{current_user.get_id()}"


@route("/settings/tokens")
def tokens():
    """The user's tokens and the form to create one."""
    return _tokens_page()


@route("/settings/tokens", methods=("POST",))
def create_token():
    """Create a token and show its key on this answer only (it is stored hashed)."""
    try:
        return _create_token()
    except RateLimitExceeded as exc:
        message = f"Too many new tokens (limit: {exc.description}). Try again later."
        return _tokens_page(errors={"name": [message]}, status=429)


@limiter.limit(_token_limit, key_func=_user_key, deduct_when=lambda r: r.status_code == 200)
def _create_token():
    try:
        token, key = users.create_named_token(current_user, request.form.get("name", ""))
    except ValidationError as exc:
        return _tokens_page(errors=exc.fields or {"name": [exc.detail]}, status=400)
    return _tokens_page(new_key=key, new_token=token)


@route("/settings/tokens/<int:token_id>/revoke", methods=("POST",))
def revoke_token(token_id):
    """Revoke one of the user's tokens; htmx gets the updated row back."""
    token = users.revoke_token(token_id, actor=current_user)
    if is_htmx():
        return render_template("settings/_token_row.html", token=token)
    return redirect(url_for("ui.tokens"))


@route("/settings/tokens/revoke-all", methods=("POST",))
def revoke_all_tokens():
    """Revoke every live token of the user; htmx gets the updated table and the message."""
    count = users.revoke_all_tokens(actor=current_user)
    message = f"Revoked {count} API token{'' if count == 1 else 's'}."
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("ui.tokens"))
    return render_template(
        "settings/_tokens_table.html", tokens=users.list_tokens(current_user)
    ) + render_template("_message_inline.html", message=message)


@route("/app/token")
def app_token():
    """The Polyaxon CLI prints /app/token: the tokens page."""
    return redirect(url_for("ui.tokens"))
