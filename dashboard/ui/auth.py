"""Sign in, sign out (here or everywhere), password change."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dashboard import login as browser
from dashboard import login_limit
from dashboard.errors import TooManyRequests, ValidationError
from dashboard.services.user import login_sessions, users
from dashboard.ui import is_htmx, route


def safe_next(target):
    """`next` only when it is a local path (never another host, scheme or `//host`)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers drop tabs and newlines from URLs and read a backslash as a slash: `/\t/evil`
    # and `/\evil` would become `//evil`, another host.
    if "\\" in target or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    return target


# Sec-Fetch-Site values of a request another site started ("same-origin" and "none" are ours).
CROSS_SITE = {"cross-site", "same-site"}


@route("/login", methods=("GET", "POST"))
def login():
    """The sign-in form; a wrong username or password gets one message for both, and an
    address over the sign-in limit is told so on the form (429)."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("ui.home"))
    error, status = None, 200
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            login_limit.check(username)
        except TooManyRequests as exc:
            error, status = exc.detail, exc.status_code
        else:
            user = users.authenticate(username, request.form.get("password", ""))
            if user is not None:
                browser.sign_in(user)
                return redirect(next_url or url_for("ui.home"))
            login_limit.failed(username)
            error, status = "Wrong username or password.", 401
    return render_template("auth/login.html", error=error, next_url=next_url), status


@route("/logout", methods=("GET", "POST"))
def logout():
    """Sign out and go to the sign-in page; a GET sent from another site only asks first.

    The page's button posts with the CSRF token; a link or typed URL still signs out, but a
    link on another site (the browser says so in Sec-Fetch-Site) cannot sign a visitor out.
    """
    if request.method == "GET" and request.headers.get("Sec-Fetch-Site") in CROSS_SITE:
        return render_template("auth/logout.html")
    browser.sign_out()
    return redirect(url_for("ui.login"))


@route("/settings/sign-out-everywhere", methods=("POST",))
@login_required
def sign_out_everywhere():
    """End every session of the user, this one included, and go to the sign-in page."""
    count = browser.sign_out_everywhere(current_user)
    flash(f"Signed out everywhere: {count} session{'' if count == 1 else 's'} ended.", "success")
    if is_htmx():
        return "", 200, {"HX-Redirect": url_for("ui.login")}
    return redirect(url_for("ui.login"))


@route("/settings/password", methods=("GET", "POST"))
@login_required
def change_password():
    """Change the signed-in user's password."""
    errors = {}
    if request.method == "POST":
        try:
            users.change_password(
                current_user,
                current=request.form.get("current_password", ""),
                new=request.form.get("new_password", ""),
                confirm=request.form.get("confirm_password", ""),
                keep_session=browser.current_session_key(),
            )
        except ValidationError as exc:
            errors = exc.fields
        else:
            flash("Your password was changed.", "success")
            return redirect(url_for("ui.change_password"))
    status = 400 if errors else 200
    return render_template(
        "auth/password.html", errors=errors, sessions=login_sessions.count_sessions(current_user)
    ), status
