"""Home page and the Polyaxon CLI's /app links."""

from flask import redirect, render_template, url_for
from flask_login import current_user

from dashboard.services import projects
from dashboard.ui import route


@route("/")
def home():
    """The projects the user can see."""
    return render_template(
        "home/home.html", projects=projects.visible_projects(actor=current_user)
    )


@route("/app")
def app_redirect():
    """The CLI prints /app: it is the home page here."""
    return redirect(url_for("ui.home"))
