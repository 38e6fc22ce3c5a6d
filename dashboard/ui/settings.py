"""Project settings (admins): visibility and members."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from dashboard.errors import NotFound, ValidationError
from dashboard.services import projects
from dashboard.services.access import project_access
from dashboard.ui import route


def _settings_page(access, *, errors=None, form=None, status=200):
    return render_template(
        "settings/project.html", project=access.project, allowed=access.allowed,
        members=projects.list_members(access), roles=projects.ROLES,
        errors=errors or {}, form=form or {},
    ), status


def _back(owner, project):
    return redirect(url_for("ui.project_settings", owner=owner, project=project))


@route("/<owner>/<project>/settings")
def project_settings(owner, project):
    """Visibility and members of the project (admins only)."""
    return _settings_page(project_access(owner, project, actor=current_user,
                                         action="manage_members"))


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
        projects.add_member(owner, project, username, request.form.get("role", ""),
                            actor=current_user)
    except (ValidationError, NotFound) as exc:
        fields = getattr(exc, "fields", None) or {"username": [exc.detail]}
        return _settings_page(access, errors=fields, form=request.form, status=400)
    return _back(owner, project)


@route("/<owner>/<project>/settings/members/<username>/role", methods=("POST",))
def change_role(owner, project, username):
    """Change a member's role."""
    projects.add_member(owner, project, username, request.form.get("role", ""),
                        actor=current_user)
    return _back(owner, project)


@route("/<owner>/<project>/settings/members/<username>/remove", methods=("POST",))
def remove_member(owner, project, username):
    """Take away a member's role."""
    access = project_access(owner, project, actor=current_user, action="manage_members")
    projects.remove_member(access, username)
    return _back(owner, project)
