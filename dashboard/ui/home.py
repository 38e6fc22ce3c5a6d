"""Home page (projects, bookmarks, recent groups, new project) and the CLI's /app link."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from dashboard.errors import ValidationError
from dashboard.services.project import projects
from dashboard.ui import route
from dashboard.ui.pages import project as project_pages


def _home(errors=None, form=None, status=200):
    page = project_pages.home_page(actor=current_user)
    return render_template(
        "home/home.html", page=page, projects=page.projects, errors=errors or {}, form=form or {}
    ), status


@route("/")
def home():
    """The projects the user can see, their bookmarked groups and recently active groups."""
    return _home()


@route("/projects", methods=("POST",))
def new_project():
    """Create a project owned by the user; errors re-render the home page inline."""
    form = request.form
    try:
        project = projects.create_project(
            actor=current_user,
            name=form.get("name", "").strip(),
            description=form.get("description", "").strip() or None,
            is_public=form.get("visibility", "public") != "private",
        )
    except ValidationError as exc:
        return _home(exc.fields or {"name": [exc.detail]}, form, 400)
    return redirect(url_for("ui.project", owner=project.owner.username, project=project.name))


@route("/app")
def app_redirect():
    """The CLI prints /app: it is the home page here."""
    return redirect(url_for("ui.home"))
