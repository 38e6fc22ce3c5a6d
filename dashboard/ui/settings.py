"""Project settings (admins): visibility, members and webhooks."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from dashboard.errors import NotFound, ValidationError
from dashboard.services.project import projects, webhooks
from dashboard.services.project.access import project_access
from dashboard.ui import is_htmx, route


def _settings_page(access, *, errors=None, form=None, status=200):
    return render_template(
        "settings/project.html",
        project=access.project,
        allowed=access.allowed,
        members=projects.list_members(access),
        roles=projects.ROLES,
        webhooks=webhooks.webhooks_with_deliveries(access),
        events=webhooks.EVENTS,
        errors=errors or {},
        form=form or {},
    ), status


def _back(owner, project, anchor=None):
    url = url_for("ui.project_settings", owner=owner, project=project, _anchor=anchor)
    return ("", 200, {"HX-Redirect": url}) if is_htmx() else redirect(url)


@route("/<owner>/<project>/settings")
def project_settings(owner, project):
    """Visibility and members of the project (admins only)."""
    return _settings_page(
        project_access(owner, project, actor=current_user, action="manage_members")
    )


@route("/<owner>/<project>/settings/visibility", methods=("POST",))
def set_visibility(owner, project):
    """Make the project public or private."""
    access = project_access(owner, project, actor=current_user, action="change_visibility")
    projects.set_visibility(access, request.form.get("visibility") == "public")
    return _back(owner, project)


@route("/<owner>/<project>/settings/members", methods=("POST",))
def add_member(owner, project):
    """Give a user a role (or change it); a wrong username or role is shown inline."""
    access = project_access(owner, project, actor=current_user, action="manage_members")
    username = request.form.get("username", "").strip()
    try:
        projects.add_member(
            owner, project, username, request.form.get("role", ""), actor=current_user
        )
    except (ValidationError, NotFound) as exc:
        fields = getattr(exc, "fields", None) or {"username": [exc.detail]}
        return _settings_page(access, errors=fields, form=request.form, status=400)
    return _back(owner, project)


@route("/<owner>/<project>/settings/members/<username>/role", methods=("POST",))
def change_role(owner, project, username):
    """Change a member's role."""
    projects.add_member(owner, project, username, request.form.get("role", ""), actor=current_user)
    return _back(owner, project)


@route("/<owner>/<project>/settings/members/<username>/remove", methods=("POST",))
def remove_member(owner, project, username):
    """Take away a member's role."""
    access = project_access(owner, project, actor=current_user, action="manage_members")
    projects.remove_member(access, username)
    return _back(owner, project)


@route("/<owner>/<project>/settings/webhooks", methods=("POST",))
def add_webhook(owner, project):
    """Add a webhook; a wrong URL, events or secret is shown inline."""
    access = project_access(owner, project, actor=current_user, action="manage_webhooks")
    try:
        webhooks.create_webhook(
            access,
            url=request.form.get("url", "").strip(),
            events=request.form.getlist("events"),
            secret=request.form.get("secret") or None,
        )
    except ValidationError as exc:
        fields = exc.fields or {"url": [exc.detail]}
        return _settings_page(access, errors=fields, form=request.form, status=400)
    return _back(owner, project, "webhooks")


@route("/<owner>/<project>/settings/webhooks/<int:webhook_id>/delete", methods=("POST",))
def delete_webhook(owner, project, webhook_id):
    """Remove a webhook and its deliveries."""
    access = project_access(owner, project, actor=current_user, action="manage_webhooks")
    webhooks.delete_webhook(access, webhook_id)
    return _back(owner, project, "webhooks")
